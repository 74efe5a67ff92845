"""Tokenizers: one token per move, and ICCS as four characters per move."""

from __future__ import annotations

import numpy as np

from model.tokenizer import CharTokenizer, MoveTokenizer


def test_move_tokenizer_round_trip(fixture_games):
    tok = MoveTokenizer()
    for game in fixture_games:
        tokens = tok.encode(game.moves)
        assert all(0 <= t < tok.pad for t in tokens)
        assert tok.decode(tokens + [tok.pad]) == game.moves


def test_char_tokenizer_round_trip(fixture_games):
    tok = CharTokenizer()
    for game in fixture_games:
        tokens = tok.encode(game.moves)
        assert len(tokens) == 4 * len(game.moves)
        assert tok.decode(tokens) == game.moves
        indices = np.array(MoveTokenizer().encode(game.moves))
        assert tok.encode_indices(indices).tolist() == tokens
