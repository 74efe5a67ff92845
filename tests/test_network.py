"""The network: saving and loading, the line encoder, the optimizer's parameter groups."""

from __future__ import annotations

import pytest
import torch

from model.accuracy import evaluate_games
from model.network import BOARD_CODES, LineEncoder, ModelConfig, MoveGPT, load_model, save_model


def test_save_load_gives_identical_outputs(tmp_path, fixture_games):
    torch.manual_seed(3)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=32)).eval()
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    game = fixture_games[1]
    assert evaluate_games(model, [game]) == evaluate_games(loaded, [game])


def test_line_encoder_sees_whole_ranks_and_files():
    torch.manual_seed(0)
    encoder = LineEncoder(4, 8)
    one_hot = torch.zeros(1, 90, BOARD_CODES, requires_grad=True)
    x = one_hot.reshape(1, 10, 9, BOARD_CODES).permute(0, 3, 1, 2)
    first = encoder.rank1(x) + encoder.file1(x)  # the first layer's features, [1, 4, rank, file]
    first[0, :, 9, 0].sum().backward()  # square a9 (rank 9, file a)
    reach = one_hot.grad.abs().sum(-1).reshape(10, 9) > 0
    assert reach[0, 0] and reach[9, 8]  # a0, at the far end of its file, and i9, of its rank
    assert reach.sum() == 10 + 9 - 1  # and nothing off its rank and file
    assert (encoder(torch.rand(3, 5, 90, BOARD_CODES)) == 0).all()  # starts as a no-op


def test_adding_a_line_encoder_keeps_predictions(tmp_path, fixture_games):
    torch.manual_seed(4)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=32)).eval()
    game = fixture_games[2]
    before = evaluate_games(model, [game])
    model.add_line_encoder(4)
    assert evaluate_games(model, [game]) == before
    with pytest.raises(ValueError, match="no line encoder"):
        model.add_line_encoder(4)
    torch.nn.init.normal_(model.line_encoder.out.weight, std=0.1)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.config.line_channels == 4
    assert evaluate_games(loaded, [game]) == evaluate_games(model, [game]) != before


def test_weight_decay_falls_on_weight_matrices_only():
    model = MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32, line_channels=4))
    decay, no_decay = model.configure_optimizers(0.1, 1e-3, "cpu").param_groups
    assert (decay["weight_decay"], no_decay["weight_decay"], decay["lr"]) == (0.1, 0.0, 1e-3)
    name = {id(p): n for n, p in model.named_parameters()}
    decayed = {name[id(p)] for p in decay["params"]}
    kept = {name[id(p)] for p in no_decay["params"]}
    assert decayed | kept == set(name.values()) and not decayed & kept
    assert {"gpt.transformer.h.0.attn.c_attn.weight", "gpt.transformer.h.0.mlp.c_fc.weight",
            "line_encoder.rank1.weight"} <= decayed
    assert {"gpt.transformer.wte.weight", "gpt.transformer.wpe.weight", "board_embedding.weight",
            "side_embedding.weight", "gpt.transformer.h.0.ln_1.weight",
            "gpt.transformer.h.0.attn.c_attn.bias"} <= kept
