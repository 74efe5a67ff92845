"""Perft: count the leaf nodes of the legal-move tree, the standard move-generator check."""

from __future__ import annotations

from .core import Board, Move


def _perft(board: Board, depth: int) -> int:
    moves = board.legal_move_codes()
    if depth == 1:
        return len(moves)
    n = 0
    for m in moves:
        board.make_code(m)
        n += _perft(board, depth - 1)
        board.unmake_code()
    return n


def perft(board: Board, depth: int) -> int:
    """Number of legal move sequences of length ``depth`` from ``board``."""
    if depth < 0:
        raise ValueError("perft depth must be >= 0")
    return 1 if depth == 0 else _perft(board, depth)


def perft_divide(board: Board, depth: int) -> list[tuple[Move, int]]:
    """Perft below each legal root move, in move order."""
    if depth < 1:
        raise ValueError("perft --divide needs depth >= 1")
    out = []
    for move in board.legal_moves:
        board.push(move)
        out.append((move, perft(board, depth - 1)))
        board.pop()
    return out
