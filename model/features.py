"""Model inputs of a game: the board codes and side to move of every position."""

from __future__ import annotations

import numpy as np

from xiangqi import Board, Move
from xiangqi.encoding import codes_array, side_code


def game_positions(board: Board, moves: list[Move]) -> tuple[np.ndarray, np.ndarray]:
    """Board codes [n+1, 90] and sides [n+1] of every position of a game from ``board``
    (the start position through the final one). ``board`` is left unchanged."""
    b = board.copy()
    codes = [codes_array(b)]
    sides = [side_code(b)]
    for m in moves:
        b.push(m)
        codes.append(codes_array(b))
        sides.append(side_code(b))
    return np.stack(codes), np.array(sides, dtype=np.int64)


def history_positions(board: Board, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Board codes and sides of the positions from ply ``start`` of ``board``'s stack to now."""
    b = board.copy()
    codes, sides = [], []
    while True:
        codes.append(codes_array(b))
        sides.append(side_code(b))
        if len(b.move_stack) <= start:
            break
        b.pop()
    return np.stack(codes[::-1]), np.array(sides[::-1], dtype=np.int64)
