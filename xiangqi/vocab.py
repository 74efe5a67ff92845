"""The fixed move vocabulary shared by the legal-move mask and the model's tokenizer.

The vocabulary holds every geometrically possible from-to pair of any piece of either
colour: all straight-line moves along a rank or file (chariot, cannon, general, soldier),
all horse jumps, the advisor's palace diagonals and the elephant's two-point diagonals.
Entries are sorted by ``(from_square, to_square)``; index ``i`` is stable across versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import (
    ADVISOR_MOVES,
    ADVISOR_SQUARES,
    BLACK,
    ELEPHANT_MOVES,
    ELEPHANT_SQUARES,
    HORSE_MOVES,
    RED,
    ROOK_RAYS,
    SQUARES,
    IllegalMoveError,
    Move,
    mirror_square,
    rotate_square,
)

if TYPE_CHECKING:
    from .core import Board


def _build_moves() -> tuple[Move, ...]:
    pairs: set[tuple[int, int]] = set()
    for frm in SQUARES:
        for ray in ROOK_RAYS[frm]:
            pairs.update((frm, to) for to in ray)
        pairs.update((frm, to) for _, to in HORSE_MOVES[frm])
        for color in (RED, BLACK):
            if frm in ADVISOR_SQUARES[color]:
                pairs.update((frm, to) for to in ADVISOR_MOVES[color][frm])
            if frm in ELEPHANT_SQUARES[color]:
                pairs.update((frm, to) for _, to in ELEPHANT_MOVES[color][frm])
    return tuple(Move(f, t) for f, t in sorted(pairs))


MOVES: tuple[Move, ...] = _build_moves()
VOCAB_SIZE = len(MOVES)
_INDEX = np.full(90 * 90, -1, dtype=np.int32)
for _i, _m in enumerate(MOVES):
    _INDEX[_m.from_square * 90 + _m.to_square] = _i


def move_index(move: Move) -> int:
    """Index of a move in :data:`MOVES`; raises :class:`IllegalMoveError` if no piece can make it."""
    i = int(_INDEX[move.from_square * 90 + move.to_square])
    if i < 0:
        raise IllegalMoveError(f"{move.uci()} is not a move any piece can make")
    return i


def index_move(index: int) -> Move:
    """The move at ``index`` of :data:`MOVES`."""
    if not 0 <= index < VOCAB_SIZE:
        raise IndexError(f"move index {index} out of range 0..{VOCAB_SIZE - 1}")
    return MOVES[index]


def legal_move_indices(board: Board) -> list[int]:
    """Vocabulary indices of the legal moves of ``board``."""
    index = _INDEX
    return [int(index[m]) for m in board.legal_move_codes()]


def legal_mask(board: Board) -> np.ndarray:
    """Boolean array of length :data:`VOCAB_SIZE`, True exactly at the legal moves."""
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    mask[legal_move_indices(board)] = True
    return mask


def _permutation(square_map) -> np.ndarray:
    return np.array([move_index(Move(square_map(m.from_square), square_map(m.to_square)))
                     for m in MOVES], dtype=np.int64)


MIRROR_PERMUTATION: np.ndarray = _permutation(mirror_square)
"""``MIRROR_PERMUTATION[i]`` is the index of move ``i`` reflected left-right."""
ROTATE_PERMUTATION: np.ndarray = _permutation(rotate_square)
"""``ROTATE_PERMUTATION[i]`` is the index of move ``i`` rotated 180 degrees."""
