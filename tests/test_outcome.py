"""Game endings through Board.outcome(): mate, stalemate, repetition, perpetual check, move limit."""

from __future__ import annotations

from xiangqi import BLACK, RED, Board, Outcome, Termination

# Red chariot checks the black general along ranks 9 and 8 while the general steps between them.
CHASE_FEN = "R3k4/9/9/9/9/9/9/9/9/3K5 b - - 0 1"
CHASE = "e9e8 a9a8 e8e9 a8a9".split()
# Both sides check with every move: each horse move unmasks a cannon or chariot (found by search).
MUTUAL_FEN = "3kr4/9/9/4cN3/9/5n3/9/4N4/3C5/4K4 w - - 0 1"
MUTUAL = "e2d4 e6d6 d4e2 d6e6".split()
# Chariots shuffle without giving check.
QUIET_FEN = "3k5/9/9/9/r8/9/9/9/9/4K3R w - - 0 1"
QUIET = "i0i1 a5a6 i1i0 a6a5".split()


def play(board: Board, moves: list[str]) -> list[Outcome | None]:
    """Push the moves, returning the outcome after each."""
    outcomes = []
    for uci in moves:
        board.push_uci(uci)
        outcomes.append(board.outcome())
    return outcomes


def test_start_is_not_over() -> None:
    board = Board()
    assert board.outcome() is None and not board.is_game_over() and board.result() == "*"


def test_checkmate() -> None:
    board = Board("5k3/9/9/9/9/9/9/9/8R/4K4 w - - 0 1")
    board.push_uci("i1f1")  # the chariot holds the f-file, the facing generals the e-file
    assert board.is_checkmate() and not board.is_stalemate()
    assert board.outcome() == Outcome(Termination.CHECKMATE, RED)
    assert board.result() == "1-0"


def test_checkmate_of_red() -> None:
    board = Board("4k4/9/9/9/9/9/9/r8/9/3K5 b - - 0 1")
    board.push_uci("a2d2")
    assert board.outcome() == Outcome(Termination.CHECKMATE, BLACK)
    assert board.result() == "0-1"


def test_stalemate_loses_for_the_side_to_move() -> None:
    # Black's general on e9 is not in check, but e8 is covered by the soldier, d9 by the facing
    # generals and f9 by the chariot; black has no other piece.
    board = Board("4k4/9/4P4/9/9/9/9/9/9/3K4R w - - 0 1")
    board.push_uci("i0f0")
    assert not board.is_check() and board.is_stalemate() and not board.legal_moves
    assert board.outcome() == Outcome(Termination.STALEMATE, RED)
    assert board.result() == "1-0"


def test_perpetual_check_loses_for_the_checker() -> None:
    board = Board(CHASE_FEN)
    outcomes = play(board, CHASE * 2)
    assert outcomes[:-1] == [None] * 7
    assert board.repetition_count() == 3
    assert outcomes[-1] == Outcome(Termination.PERPETUAL_CHECK, BLACK)
    assert board.result() == "0-1"


def test_perpetual_check_judged_at_a_position_with_red_to_move() -> None:
    board = Board("R8/4k4/9/9/9/9/9/9/9/3K5 w - - 0 1")
    outcomes = play(board, "a9a8 e8e9 a8a9 e9e8".split() * 2)
    assert outcomes[:-1] == [None] * 7
    assert outcomes[-1] == Outcome(Termination.PERPETUAL_CHECK, BLACK)


def test_perpetual_check_by_black() -> None:
    board = Board("3k5/9/9/9/9/9/9/9/9/r3K4 w - - 0 1")
    outcomes = play(board, "e0e1 a0a1 e1e0 a1a0".split() * 2)
    assert outcomes[-1] == Outcome(Termination.PERPETUAL_CHECK, RED)
    assert board.result() == "1-0"


def test_mutual_perpetual_check_is_a_draw() -> None:
    board = Board(MUTUAL_FEN)
    outcomes = play(board, MUTUAL * 2)
    assert outcomes[:-1] == [None] * 7
    assert outcomes[-1] == Outcome(Termination.REPETITION, None)


def test_every_move_of_the_mutual_cycle_checks() -> None:
    board = Board(MUTUAL_FEN)
    for uci in MUTUAL:
        board.push_uci(uci)
        assert board.is_check()


def test_plain_repetition_is_a_draw() -> None:
    board = Board(QUIET_FEN)
    outcomes = play(board, QUIET * 2)
    assert outcomes[:-1] == [None] * 7
    assert outcomes[-1] == Outcome(Termination.REPETITION, None)
    assert board.result() == "1/2-1/2"


def test_checks_by_one_side_only_part_of_the_cycle_is_a_draw() -> None:
    # Red alternates a checking and a quiet chariot move; black shuffles its general.
    board = Board("4k4/9/9/9/9/9/9/9/9/R2K5 w - - 0 1")
    outcomes = play(board, "a0a9 e9e8 a9a0 e8e9".split() * 2)
    assert board.repetition_count() == 3
    assert outcomes[-1] == Outcome(Termination.REPETITION, None)


def test_repetition_count_is_configurable() -> None:
    board = Board(CHASE_FEN, repetitions=2)
    outcomes = play(board, CHASE)
    assert outcomes[:-1] == [None] * 3
    assert outcomes[-1] == Outcome(Termination.PERPETUAL_CHECK, BLACK)
    board = Board(QUIET_FEN, repetitions=4)
    assert play(board, QUIET * 3) == [None] * 11 + [Outcome(Termination.REPETITION, None)]


def test_move_limit_default_is_120_plies() -> None:
    board = Board(QUIET_FEN.replace("0 1", "118 60"))
    board.push_uci("i0i1")
    assert board.halfmove_clock == 119 and board.outcome() is None
    board.push_uci("a5a6")
    assert board.outcome() == Outcome(Termination.MOVE_LIMIT, None)
    assert board.result() == "1/2-1/2"


def test_move_limit_is_configurable_and_reset_by_a_capture() -> None:
    board = Board("3k5/9/9/9/r8/9/9/9/p7R/4K4 w - - 3 1", max_plies_without_capture=4)
    assert board.outcome() is None
    board.push_uci("i1a1")  # captures the soldier
    assert board.halfmove_clock == 0
    assert play(board, ["a5b5", "a1a2", "b5b6"]) == [None] * 3
    board.push_uci("a2a3")
    assert board.halfmove_clock == 4
    assert board.outcome() == Outcome(Termination.MOVE_LIMIT, None)
