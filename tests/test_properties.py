"""Property tests on random playouts (hypothesis chooses the moves)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiangqi import GENERAL, MOVES, Board, Move, legal_mask

FENS = [
    "rnbakabnr/9/1c5c1/p1p1p1p1p/9/9/P1P1P1P1P/1C5C1/9/RNBAKABNR w - - 0 1",
    "r1ba1a3/4kn3/2n1b4/pNp1p1p1p/4c4/6P2/P1P2R2P/1CcC5/9/2BAKAB2 w - - 0 1",
    "C1nNk4/9/9/9/9/9/n1pp5/B3C4/9/3A1K3 w - - 0 1",
]
PLAYOUT = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def generals_face(board: Board) -> bool:
    """Whether the generals share a file with nothing between them, from the pieces alone."""
    red = next(sq for sq in range(90) if board.piece_code_at(sq) == GENERAL)
    black = next(sq for sq in range(90) if board.piece_code_at(sq) == -GENERAL)
    return red % 9 == black % 9 and all(board.piece_code_at(sq) == 0 for sq in range(red + 9, black, 9))


@st.composite
def playouts(draw, max_plies: int = 40) -> Board:
    """A board after a random legal playout, with the moves on its stack."""
    board = Board(draw(st.sampled_from(FENS)))
    for _ in range(draw(st.integers(0, max_plies))):
        moves = board.legal_moves
        if not moves:
            break
        board.push(moves[draw(st.integers(0, len(moves) - 1))])
    return board


@PLAYOUT
@given(playouts())
def test_pop_restores_fen_and_hash(board: Board) -> None:
    states = []
    root = board.root()
    replay = Board(root.fen())
    for move in board.move_stack:
        states.append((replay.fen(), replay.zobrist_hash()))
        replay.push(move)
    while replay.move_stack:
        replay.pop()
        assert (replay.fen(), replay.zobrist_hash()) == states.pop()


@PLAYOUT
@given(playouts())
def test_hash_equals_recomputation(board: Board) -> None:
    assert board.zobrist_hash() == Board(board.fen()).zobrist_hash()
    assert board.zobrist_hash() == board._compute_hash()


@PLAYOUT
@given(playouts())
def test_legal_moves_never_leave_the_mover_in_check(board: Board) -> None:
    mover = board.turn
    for move in board.legal_moves:
        board.push(move)
        assert not generals_face(board)
        board.turn = mover  # ask whether the mover's general is attacked
        assert not board.is_check(), move.uci()
        board.turn = not mover
        board.pop()


@PLAYOUT
@given(playouts())
def test_generals_never_face(board: Board) -> None:
    assert not generals_face(board)


@PLAYOUT
@given(playouts())
def test_legal_mask_is_true_exactly_at_legal_moves(board: Board) -> None:
    mask = legal_mask(board)
    legal = set(board.legal_moves)
    assert {MOVES[i] for i in np.flatnonzero(mask)} == legal
    assert all(board.is_legal(m) == (m in legal) for m in MOVES)


@PLAYOUT
@given(playouts(), st.integers(0, 89), st.integers(0, 89))
def test_illegal_moves_are_refused(board: Board, frm: int, to: int) -> None:
    move = Move(frm, to)
    if move not in board.legal_moves:
        fen = board.fen()
        try:
            board.push(move)
        except ValueError:
            assert board.fen() == fen
        else:
            raise AssertionError(f"{move.uci()} was accepted in {fen}")
