"""Playing levels: the shallow search on set positions, and every level with the shipped model."""

from __future__ import annotations

import random

import pytest

from play.arena import run_match, summarize
from play.levels import DEFAULT_LEVEL, LEVELS, THINKING_MS, choose_move, safe_move
from play.material import MATE, capture_gain, unsafe_moves, verdict_of
from xiangqi import Board, Move

# Red chariot a4 is attacked by the black horse b6; the soldier move i3i4 leaves it hanging.
HANGING = "4k4/9/9/1n7/9/R8/8P/9/9/3K5 w - - 0 1"
# The same with a black soldier on c4 that the horse defends.
DEFENDED_PAWN = "4k4/9/9/1n7/9/R1p6/8P/9/9/3K5 w - - 0 1"
# The soldier on c4 undefended (the horse is away on h9).
FREE_PAWN = "4k2n1/9/9/9/9/R1p6/8P/9/9/3K5 w - - 0 1"
# Black to move: the advisor move e8f9 lets Red mate with h2h8.
ALLOWS_MATE = "9/4ak3/4br3/p8/9/2P2np2/P4p3/B6R1/3r5/4K4 b - - 5 58"
# Black to move mates with c0c1.
MATE_IN_ONE = "3akab2/9/9/Rn2p1c1P/1Pb1P2P1/4C4/2P6/1N1AC3B/3K3cR/2rN5 b - - 0 48"
# Red, far ahead, checks with its chariot back and forth; d8d9 a third time loses by perpetual check.
PERPETUAL = "3R2C2/5k3/5a3/4R4/4PP3/n1N6/9/5p3/9/2B1KA3 w - - 29 46"
PERPETUAL_MOVES = "c4a5 f2f1 d9d8 f8f9 d8d9 f9f8 d9d8 f8f9".split()


def ranked_first(board: Board, first: str) -> list[tuple[Move, float]]:
    """All legal moves as candidates, ``first`` with the highest probability."""
    moves = sorted(board.legal_moves, key=lambda m: m.uci() != first)
    return [(m, 1.0 / (i + 1)) for i, m in enumerate(moves)]


def test_levels_api() -> None:
    assert DEFAULT_LEVEL in LEVELS
    assert list(LEVELS)[-2:] == [DEFAULT_LEVEL, "expert"] and DEFAULT_LEVEL == "master"
    assert all(isinstance(v, str) and v for v in LEVELS.values())


def test_search_sees_a_hanging_piece() -> None:
    board = Board(HANGING)
    assert verdict_of(board, Move.from_uci("i3i4")).balance == -9.0
    assert verdict_of(board, Move.from_uci("a4b4")).balance == 0.0
    move = safe_move(board, ranked_first(board, "i3i4"))
    assert move.from_square == Move.from_uci("a4a5").from_square
    assert verdict_of(board, move).balance >= 0
    assert board.fen() == HANGING  # the search leaves the board as it found it


def test_search_counts_the_recapture() -> None:
    board = Board(DEFENDED_PAWN)
    assert verdict_of(board, Move.from_uci("a4c4")).balance == 1.0 - 9.0
    assert safe_move(board, ranked_first(board, "a4c4")) != Move.from_uci("a4c4")


def test_search_takes_free_material() -> None:
    board = Board(FREE_PAWN)
    assert verdict_of(board, Move.from_uci("a4c4")).balance == 1.0
    assert safe_move(board, ranked_first(board, "i3i4")) == Move.from_uci("a4c4")


def test_search_avoids_mate_in_one() -> None:
    board = Board(ALLOWS_MATE)
    assert verdict_of(board, Move.from_uci("e8f9")).allows_mate
    move = safe_move(board, ranked_first(board, "e8f9"))
    assert move != Move.from_uci("e8f9")
    assert not verdict_of(board, move).allows_mate


def test_search_plays_mate_in_one() -> None:
    board = Board(MATE_IN_ONE)
    assert verdict_of(board, Move.from_uci("c0c1")).balance == MATE
    other = next(m.uci() for m in board.legal_moves if m.uci() != "c0c1")
    assert safe_move(board, ranked_first(board, other)) == Move.from_uci("c0c1")


def test_search_avoids_perpetual_check() -> None:
    board = Board(PERPETUAL)
    for text in PERPETUAL_MOVES:
        board.push_uci(text)
    assert verdict_of(board, Move.from_uci("d8d9")).allows_mate
    assert safe_move(board, ranked_first(board, "d8d9")) != Move.from_uci("d8d9")


def test_unknown_level() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        choose_move(None, Board(), "grandmaster")


def test_every_level_plays_legal_moves(shipped_policy) -> None:
    rng = random.Random(0)
    for level in [lv for lv in LEVELS if lv not in THINKING_MS]:  # expert: tests/test_search.py
        board = Board()
        for _ in range(12):
            move = choose_move(shipped_policy, board, level, rng)
            assert board.is_legal(move)
            board.push(move)


def test_argmax_levels_are_deterministic(shipped_policy) -> None:
    board = Board()
    board.push_uci("h2e2")
    for level in ("club", "master"):
        moves = {choose_move(shipped_policy, board.copy(), level, random.Random(i)) for i in range(3)}
        assert len(moves) == 1


def test_default_level_beats_random_in_the_arena() -> None:
    records = run_match(f"model:{DEFAULT_LEVEL}", "random", 4, openings=2, seed=0, workers=1, progress=False)
    assert summarize(records, "model", "random")["score"] >= 0.75


def test_unsafe_moves_are_those_the_2_ply_check_finds_worse_than_the_safest() -> None:
    board = Board(HANGING)  # the red chariot on a4 is attacked by the horse on b6
    unsafe = unsafe_moves(board)
    # leaving the chariot where it is, or moving it to a8 or c4, where the horse also attacks it
    assert {m.uci() for m in unsafe} == {"i3i4", "d0d1", "a4a8", "a4c4"}
    # from the start: a cannon that takes a horse is lost for it, and a corner chariot that steps
    # up leaves its horse to the cannon behind the screen
    assert {m.uci() for m in unsafe_moves(Board())} == {"b2b9", "h2h9", "a0a1", "a0a2", "i0i1", "i0i2"}


def test_unsafe_moves_within_a_margin() -> None:
    """With a margin of two soldiers, a cannon traded for a horse (half a soldier lost) is no longer
    unsafe, while a chariot left to a horse or a horse left to a cannon still is."""
    assert {m.uci() for m in unsafe_moves(Board(HANGING), margin=2.0)} == {"i3i4", "d0d1", "a4a8", "a4c4"}
    assert {m.uci() for m in unsafe_moves(Board(), margin=2.0)} == {"a0a1", "a0a2", "i0i1", "i0i2"}


def test_capture_gain_is_a_one_move_exchange() -> None:
    assert capture_gain(Board(HANGING.replace(" w ", " b "))) == 9.0  # the horse takes the chariot
    assert capture_gain(Board(FREE_PAWN)) == 1.0  # the chariot takes the soldier
    assert capture_gain(Board(DEFENDED_PAWN)) == 0.0  # 1 - 9: the horse would take the chariot back
    assert capture_gain(Board(HANGING)) == 0.0  # nothing to take
    assert capture_gain(Board()) == 0.0  # a cannon takes a horse (4) and is taken by a chariot (4.5)
