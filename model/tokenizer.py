"""Tokenizers: one token per move (default) and the seed-style ICCS character tokenizer.

Move tokens are the indices of :data:`xiangqi.vocab.MOVES` (the same indices as
``Board.legal_mask()``), followed by the special tokens ``PAD`` and ``BOS``. ``BOS`` opens a
sequence: at the start of a game, or at a position given without history (a FEN).
The character tokenizer spells each move as its four ICCS characters.
"""

from __future__ import annotations

import numpy as np

from xiangqi import VOCAB_SIZE, Move, index_move, move_index
from xiangqi.vocab import MOVES

ICCS_CHARS = "abcdefghi0123456789"


class MoveTokenizer:
    """One token per move, plus PAD and BOS."""

    kind = "move"
    tokens_per_move = 1
    pad = VOCAB_SIZE
    bos = VOCAB_SIZE + 1
    vocab_size = VOCAB_SIZE + 2

    def encode(self, moves: list[Move]) -> list[int]:
        return [move_index(m) for m in moves]

    def decode(self, tokens: list[int]) -> list[Move]:
        return [index_move(t) for t in tokens if t < VOCAB_SIZE]


class CharTokenizer:
    """Four ICCS characters per move (``h2e2`` -> h, 2, e, 2), plus PAD and BOS."""

    kind = "char"
    tokens_per_move = 4
    pad = len(ICCS_CHARS)
    bos = len(ICCS_CHARS) + 1
    vocab_size = len(ICCS_CHARS) + 2

    def encode(self, moves: list[Move]) -> list[int]:
        return [ICCS_CHARS.index(c) for m in moves for c in m.uci()]

    def encode_indices(self, indices: np.ndarray) -> np.ndarray:
        """Character tokens of moves given by vocabulary index (a flat int64 array)."""
        return _CHAR_TOKENS[indices].reshape(-1)

    def decode(self, tokens: list[int]) -> list[Move]:
        chars = "".join(ICCS_CHARS[t] for t in tokens if t < len(ICCS_CHARS))
        if len(chars) % 4:
            raise ValueError(f"{len(chars)} characters do not spell whole moves")
        return [Move.from_uci(chars[i:i + 4]) for i in range(0, len(chars), 4)]


def get_tokenizer(kind: str) -> MoveTokenizer | CharTokenizer:
    if kind == "move":
        return MoveTokenizer()
    if kind == "char":
        return CharTokenizer()
    raise ValueError(f"unknown tokenizer {kind!r} (expected 'move' or 'char')")


_CHAR_TOKENS = np.array([[ICCS_CHARS.index(c) for c in m.uci()] for m in MOVES], dtype=np.int64)
