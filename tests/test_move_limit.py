"""The AXF move-limit detail: a side's checks after its tenth since the last capture, and the
replies to them, do not count towards the move limit under the Asian rules."""

from __future__ import annotations

from xiangqi import Board, Outcome, Termination

# The red chariot checks with every move; the black general steps between e9 and e8. Repetition is
# switched off (repetitions=1000) so that only the move limit can end the game.
FEN = "R3k4/9/9/9/9/9/9/9/9/3K5 b - - 96 1"
MOVES = "e9e8 a9a8 e8e9 a8a9".split() * 6  # 24 plies, red's 12 checks on the even plies


def play(rules: str) -> tuple[Board, list[Outcome | None]]:
    board = Board(FEN, rules=rules, repetitions=1000)
    outcomes = []
    for text in MOVES:
        board.push_uci(text)
        outcomes.append(board.outcome())
    return board, outcomes


def test_check_only_rules_count_every_ply() -> None:
    board, outcomes = play("check-only")
    assert board.halfmove_clock == 120 and board.plies_towards_move_limit() == 120
    assert outcomes == [None] * 23 + [Outcome(Termination.MOVE_LIMIT, None)]


def test_checks_after_the_tenth_do_not_count() -> None:
    board, outcomes = play("asian")
    # Red's 11th check (ply 22), Black's reply (ply 23) and the 12th check (ply 24) do not count.
    assert board.halfmove_clock == 120 and board.plies_towards_move_limit() == 117
    assert outcomes == [None] * 24


def test_quiet_moves_count_in_full() -> None:
    board = Board("3k5/9/9/9/r8/9/9/9/9/4K3R w - - 118 60")
    board.push_uci("i0i1")
    board.push_uci("a5a6")
    assert board.plies_towards_move_limit() == 120
    assert board.outcome() == Outcome(Termination.MOVE_LIMIT, None)
