"""Ensembles of move models and the learned legality net: training, combining, saving, playing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from data.dataset import legal_table, load_split, unpack_legal
from model.accuracy import evaluate_games
from model.ensemble import Ensemble, load_any, quantize, save_ensemble
from model.features import game_positions
from model.legality import load_legality
from model.network import ModelConfig, ModelLoadError, MoveGPT, load_model, save_model
from model.options import LegalityTrainConfig
from model.policy import Policy
from model.tokenizer import MoveTokenizer
from model.train_legality import position_sides, train_legality
from xiangqi import VOCAB_SIZE, Board

ROOT = Path(__file__).resolve().parents[1]


def tiny_member(seed: int) -> MoveGPT:
    torch.manual_seed(seed)
    return MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=32)).eval()


def tiny_legality_config(data: Path, out: Path) -> LegalityTrainConfig:
    """A small legality net, trained for 300 steps."""
    return LegalityTrainConfig(data=str(data), out=str(out), channels=16, layers=2, hidden=64, batch_size=64,
                               moves_per_step=1024, lr=3e-3, max_steps=300, eval_every=100, val_positions=400,
                               threads=1)


@pytest.fixture(scope="module")
def trained_legality(fixture_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("legality")
    train_legality(tiny_legality_config(fixture_data, out))
    return out


def test_ensemble_averages_its_members(fixture_games):
    a, b = tiny_member(0), tiny_member(1)
    ensemble = Ensemble([a, b]).eval()
    game = fixture_games[0]
    tokens = torch.tensor([[MoveTokenizer.bos] + MoveTokenizer().encode(game.moves[:4])])
    codes, sides = game_positions(game.board(), game.moves[:4])
    boards, sides = torch.from_numpy(codes)[None], torch.from_numpy(sides)[None]
    with torch.no_grad():
        a_scores, b_scores = (m(tokens, boards, sides)[0].log_softmax(-1) for m in (a, b))
        expected = (a_scores + b_scores) / 2
        assert torch.allclose(ensemble(tokens, boards, sides)[0], expected, atol=1e-6)
    # The ensemble ranks moves differently from either member alone.
    results = [evaluate_games(m, fixture_games[:3]) for m in (a, b, ensemble)]
    assert results[2]["loss"] not in (results[0]["loss"], results[1]["loss"])


def test_quantize_keeps_rows_within_half_a_step():
    w = torch.randn(50, 70) * torch.logspace(-3, 1, 50)[:, None]  # rows of very different scales
    q, scale = quantize(w)
    assert q.dtype == torch.int8 and scale.shape == (50, 1)
    assert ((q.float() * scale - w).abs() <= scale / 2 + 1e-7).all()


def test_saved_ensemble_predicts_like_the_original(tmp_path, fixture_games, trained_legality):
    ensemble = Ensemble([tiny_member(0), tiny_member(1)], load_legality(trained_legality)).eval()
    save_ensemble(ensemble, tmp_path / "ens", extra={"inference": {"mirror_average": True}})
    loaded = load_any(tmp_path / "ens")
    assert isinstance(loaded, Ensemble) and loaded.legality is not None
    size = (tmp_path / "ens" / "model.safetensors").stat().st_size
    members_fp32 = 4 * sum(p.numel() for p in ensemble.members.parameters())
    legality_fp32 = 4 * sum(p.numel() for p in ensemble.legality.parameters())
    assert size < members_fp32 / 2 + legality_fp32  # int8 member weights
    before, after = evaluate_games(ensemble, fixture_games[:3]), evaluate_games(loaded, fixture_games[:3])
    assert abs(before["loss"] - after["loss"]) < 0.01
    assert abs(before["top5"] - after["top5"]) < 0.02
    with pytest.raises(ModelLoadError, match="ensemble, not a single model"):
        load_model(tmp_path / "ens")


def test_ensemble_policy_cache_matches_full_recompute(fixture_games, trained_legality):
    ensemble = Ensemble([tiny_member(0), tiny_member(1)], load_legality(trained_legality)).eval()
    cached, fresh = Policy(ensemble, mirror_average=True), Policy(ensemble, mirror_average=True)
    board, game = Board(), fixture_games[1]
    for move in game.moves[:40]:  # crosses the 32-position window
        a = cached.candidates(board, k=3)
        fresh.clear_cache()
        b = fresh.candidates(board, k=3)
        assert [m for m, _ in a] == [m for m, _ in b]
        assert np.allclose([p for _, p in a], [p for _, p in b], atol=1e-4)
        assert {m for m, _ in cached.candidates(board)} == set(board.legal_moves)
        board.push(move)


def test_legality_net_learns_the_rules(fixture_data, trained_legality):
    """Trained for a few hundred steps on the fixture games' positions, the net already tells
    most legal moves from illegal ones in held-out positions."""
    record = json.loads((trained_legality / "config.json").read_text())["val"]
    metrics = [json.loads(line) for line in (trained_legality / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [100, 200, 300]
    assert (trained_legality / "curves.png").is_file()
    assert metrics[-1]["move_error"] < metrics[0]["move_error"]
    assert record["false_illegal_per_position"] < 20  # of about 30 legal moves a position
    # Well under the errors of calling every move illegal, where an untrained net starts.
    val = load_split(str(fixture_data), "val")
    legal = unpack_legal(legal_table(str(fixture_data), "val"))
    errors = record["false_legal_per_position"] + record["false_illegal_per_position"]
    assert record["positions"] == len(legal) and errors < 0.6 * legal.sum(1).mean()
    # A subset of moves scores exactly like the full vocabulary.
    net = load_legality(trained_legality)
    boards, sides = torch.tensor(val["boards"][:8]), torch.tensor(position_sides(val)[:8])
    moves = torch.tensor([5, 77, 1000, 2085])
    with torch.no_grad():
        assert torch.allclose(net(boards, sides)[:, moves], net(boards, sides, moves), atol=1e-5)
    assert legal.shape == (len(val["moves"]), VOCAB_SIZE) and (legal[:8].sum(1) > 10).all()


def test_legality_net_makes_the_unmasked_argmax_legal(fixture_games, trained_legality):
    member = tiny_member(0)  # untrained: its unmasked argmax is almost never legal
    alone = evaluate_games(Ensemble([member]).eval(), fixture_games[:5])
    helped = evaluate_games(Ensemble([member], load_legality(trained_legality)).eval(), fixture_games[:5])
    assert alone["legal_rate"] < 0.1
    assert helped["legal_rate"] > 0.5


def test_combine_and_eval_cli(tmp_path, wxf15_paths, trained_legality):
    for seed in (0, 1):
        save_model(tiny_member(seed), tmp_path / f"m{seed}")
    run = [sys.executable, "-m", "xqgpt"]
    out = subprocess.run(run + ["combine", "--member", str(tmp_path / "m0"), "--member", str(tmp_path / "m1"),
                                "--legality", str(trained_legality), "--out", str(tmp_path / "ens"),
                                "--mirror-average"], capture_output=True, text=True, cwd=ROOT, check=True)
    summary = json.loads(out.stdout)
    assert summary["members"] == [str(tmp_path / "m0"), str(tmp_path / "m1")]
    results = {}
    for flag in ([], ["--no-legality-net"]):
        out = subprocess.run(run + ["eval", "--pgn", str(wxf15_paths["iccs"]), "--max-games", "3",
                                    "--model", str(tmp_path / "ens"), "--json"] + flag,
                             capture_output=True, text=True, cwd=ROOT, check=True)
        results[bool(flag)] = json.loads(out.stdout.strip().splitlines()[-1])
    assert results[False]["mirror_average"] and results[False]["moves"] == results[True]["moves"]
    assert results[False]["legal_rate"] > results[True]["legal_rate"]
    bad = subprocess.run(run + ["combine", "--member", str(tmp_path / "missing"),
                                "--out", str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "not a model directory" in bad.stderr


def test_bad_ensemble_directories(tmp_path):
    save_ensemble(Ensemble([tiny_member(0)]), tmp_path / "ens")
    (tmp_path / "ens" / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ModelLoadError, match="cannot load ensemble"):
        Policy.load(tmp_path / "ens")
    with pytest.raises(ModelLoadError, match="not a legality-net directory"):
        load_legality(tmp_path / "missing")
    with pytest.raises(ValueError, match="at least one member"):
        Ensemble([])


def test_shipped_ensemble_predicts_master_moves(fixture_games, shipped_policy):
    """The shipped model on the 15 fixture master games: accurate, its argmax legal with the
    learned legality net, and playing ranks moves as evaluation does."""
    model = shipped_policy.model
    if not isinstance(model, Ensemble):
        pytest.skip("$XQGPT_MODEL names a single model, not an ensemble")
    assert len(model.members) == 2 and model.legality is not None and shipped_policy.mirror_average
    result = evaluate_games(model, fixture_games, mirror_average=True)
    assert result["moves"] == 1378
    assert result["top1"] > 0.5 and result["top5"] > 0.8 and result["legal_rate"] > 0.99
    alone = evaluate_games(model.without_legality(), fixture_games, mirror_average=True)
    assert alone["legal_rate"] < result["legal_rate"]
    game = next(g for g in fixture_games if len(g.moves) <= 128)  # one window: the same context
    policy, board, hits = Policy(model, mirror_average=True), game.board(), 0  # a fresh KV cache
    for move in game.moves:
        hits += policy.candidates(board, k=1)[0][0] == move
        board.push(move)
    # Evaluation feeds whole windows and play one position at a time, through bf16 activations:
    # at most one near-tie may fall the other way.
    evaluated = evaluate_games(model, [game], mirror_average=True)["top1"] * len(game.moves)
    assert abs(evaluated - hits) <= 1
