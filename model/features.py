"""Turning game records into model inputs: tokens, board codes and side to move per ply."""

from __future__ import annotations

import struct

import numpy as np

from xiangqi import RED, Board, Move, mirror_square
from xiangqi.vocab import MOVES

# Square each vocabulary move starts from; the piece there tells the side to move.
FROM_SQUARE = np.array([m.from_square for m in MOVES], dtype=np.int64)
MIRROR_SQUARES = np.array([mirror_square(s) for s in range(90)], dtype=np.int64)


def is_red_piece(codes: np.ndarray) -> np.ndarray:
    """bool, elementwise: whether each board code is a Red piece (1..7)."""
    return (codes >= 1) & (codes <= 7)


def red_to_move(boards: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """bool [n]: whether Red is to move in each position, read off the piece on the from-square
    of the move played there (boards [n, 90] of board codes, moves [n] of vocabulary indices)."""
    return is_red_piece(boards[np.arange(len(moves)), FROM_SQUARE[moves]])


# Signed piece codes packed as bytes (-1 is 255) to board codes (Black -1..-7 to 8..14).
_CODE_TABLE = bytes(c if c < 128 else 7 + 256 - c for c in range(256))


def board_codes(board: Board) -> bytes:
    """90 bytes, one per square: 0 empty, 1..7 Red general..soldier, 8..14 Black."""
    return struct.pack("90b", *board._board).translate(_CODE_TABLE)


def _codes_array(board: Board) -> np.ndarray:
    return np.frombuffer(board_codes(board), dtype=np.uint8)


def game_positions(board: Board, moves: list[Move]) -> tuple[np.ndarray, np.ndarray]:
    """Board codes [n+1, 90] and sides [n+1] of every position of a game from ``board``
    (the start position through the final one). ``board`` is left unchanged."""
    b = board.copy()
    codes = [_codes_array(b)]
    sides = [int(b.turn == RED)]
    for m in moves:
        b.push(m)
        codes.append(_codes_array(b))
        sides.append(int(b.turn == RED))
    return np.stack(codes), np.array(sides, dtype=np.int64)


def history_positions(board: Board, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Board codes and sides of the positions from ply ``start`` of ``board``'s stack to now."""
    b = board.copy()
    codes, sides = [], []
    while True:
        codes.append(_codes_array(b))
        sides.append(int(b.turn == RED))
        if len(b.move_stack) <= start:
            break
        b.pop()
    return np.stack(codes[::-1]), np.array(sides[::-1], dtype=np.int64)


_CODE_LETTERS = "1KABNRCPkabnrcp"  # board code -> FEN letter ("1" marks an empty square)


def codes_fen(codes: np.ndarray, red_to_move: bool) -> str:
    """The FEN of 90 board codes (see :func:`board_codes`) and the side to move."""
    rows = []
    for rank in range(9, -1, -1):
        row = "".join(_CODE_LETTERS[c] for c in codes[rank * 9:rank * 9 + 9])
        for n in range(9, 1, -1):
            row = row.replace("1" * n, str(n))
        rows.append(row)
    return "/".join(rows) + (" w" if red_to_move else " b")
