"""The move vocabulary, move indices, the legal mask and the mirror/rotate permutations."""

from __future__ import annotations

import random

import numpy as np
import pytest

from xiangqi import MOVES, VOCAB_SIZE, Board, IllegalMoveError, Move, index_move, legal_mask, move_index
from xiangqi.vocab import MIRROR_PERMUTATION, ROTATE_PERMUTATION, legal_move_indices


def test_size_and_order() -> None:
    assert VOCAB_SIZE == len(MOVES) == 2086
    pairs = [(m.from_square, m.to_square) for m in MOVES]
    assert pairs == sorted(set(pairs))
    assert MOVES[0] == Move.from_uci("a0b0") and MOVES[-1] == Move.from_uci("i9h9")


def test_index_round_trip() -> None:
    for i, move in enumerate(MOVES):
        assert move_index(move) == i and index_move(i) == move
    with pytest.raises(IndexError):
        index_move(VOCAB_SIZE)
    with pytest.raises(IndexError):
        index_move(-1)
    with pytest.raises(IllegalMoveError, match="not a move any piece can make"):
        move_index(Move.from_uci("a0c2"))  # no piece jumps two files and two ranks


def test_every_legal_move_of_random_games_is_in_the_vocabulary() -> None:
    rng = random.Random(7)
    seen: set[int] = set()
    for _ in range(40):
        board = Board()
        for _ in range(150):
            moves = board.legal_moves
            if not moves:
                break
            seen.update(move_index(m) for m in moves)
            board.push(rng.choice(moves))
    assert len(seen) > 1500


def test_legal_mask_matches_legal_moves() -> None:
    board = Board("r1ba1a3/4kn3/2n1b4/pNp1p1p1p/4c4/6P2/P1P2R2P/1CcC5/9/2BAKAB2 w")
    mask = legal_mask(board)
    assert mask.dtype == np.bool_ and mask.shape == (VOCAB_SIZE,)
    assert {MOVES[i] for i in np.flatnonzero(mask)} == set(board.legal_moves)
    assert sorted(legal_move_indices(board)) == sorted(np.flatnonzero(board.legal_mask()))


def test_permutations_are_involutions_that_map_moves() -> None:
    identity = np.arange(VOCAB_SIZE)
    for perm, method in ((MIRROR_PERMUTATION, Move.mirror), (ROTATE_PERMUTATION, Move.rotate)):
        assert sorted(perm) == list(identity)
        assert (perm[perm] == identity).all()
        assert all(MOVES[perm[i]] == method(m) for i, m in enumerate(MOVES))
    assert MOVES[MIRROR_PERMUTATION[move_index(Move.from_uci("h2e2"))]] == Move.from_uci("b2e2")


def test_mirrored_board_mask_is_the_permuted_mask() -> None:
    board = Board()
    for uci in ("h2e2", "h9g7", "h0g2"):
        board.push_uci(uci)
    mirrored = board.mirror()
    assert (legal_mask(mirrored)[MIRROR_PERMUTATION] == legal_mask(board)).all()
