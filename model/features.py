"""Turning game records into model inputs: tokens, board codes and side to move per ply."""

from __future__ import annotations

import numpy as np

from xiangqi import RED, Board, Move, mirror_square
from xiangqi.vocab import MOVES

# Square each vocabulary move starts from; the piece there tells the side to move.
FROM_SQUARE = np.array([m.from_square for m in MOVES], dtype=np.int64)
MIRROR_SQUARES = np.array([mirror_square(s) for s in range(90)], dtype=np.int64)


def board_codes(board: Board) -> np.ndarray:
    """uint8 [90]: 0 empty, 1..7 Red general..soldier, 8..14 Black."""
    return np.array([c if c >= 0 else 7 - c for c in board._board], dtype=np.uint8)


def sides_from(moves: np.ndarray, boards: np.ndarray) -> np.ndarray:
    """1 where Red is to move: the piece on each move's from-square is Red's."""
    codes = boards[np.arange(len(moves)), FROM_SQUARE[moves]]
    return ((codes >= 1) & (codes <= 7)).astype(np.int64)


def game_positions(board: Board, moves: list[Move]) -> tuple[np.ndarray, np.ndarray]:
    """Board codes [n+1, 90] and sides [n+1] of every position of a game from ``board``
    (the start position through the final one). ``board`` is left unchanged."""
    b = board.copy()
    codes = [board_codes(b)]
    sides = [int(b.turn == RED)]
    for m in moves:
        b.push(m)
        codes.append(board_codes(b))
        sides.append(int(b.turn == RED))
    return np.stack(codes), np.array(sides, dtype=np.int64)


def history_positions(board: Board, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Board codes and sides of the positions from ply ``start`` of ``board``'s stack to now."""
    b = board.copy()
    codes, sides = [], []
    while True:
        codes.append(board_codes(b))
        sides.append(int(b.turn == RED))
        if len(b.move_stack) <= start:
            break
        b.pop()
    return np.stack(codes[::-1]), np.array(sides[::-1], dtype=np.int64)
