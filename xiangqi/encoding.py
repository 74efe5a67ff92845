"""The board as numbers: 90 board codes per position, shared by the dataset and the model.

Board codes are bytes, one per square: 0 empty, 1..7 Red general..soldier, 8..14 Black. With the
move vocabulary (:mod:`xiangqi.vocab`) they are the whole numeric interface between the rules
and the networks.
"""

from __future__ import annotations

import struct

import numpy as np

from .base import RED, mirror_square
from .core import Board
from .vocab import MOVES

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
    return struct.pack("90b", *board.piece_codes()).translate(_CODE_TABLE)


def codes_array(board: Board) -> np.ndarray:
    """:func:`board_codes` as a uint8 array of 90."""
    return np.frombuffer(board_codes(board), dtype=np.uint8)


def side_code(board: Board) -> int:
    """1 if Red is to move, else 0."""
    return int(board.turn == RED)


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
