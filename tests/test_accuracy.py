"""Move-prediction accuracy (``xqgpt eval``): mirror averaging, character models, reading games."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.accuracy import evaluate_games, load_games
from model.network import ModelConfig, MoveGPT, save_model
from xiangqi import Board
from xiangqi.pgn import Game

ROOT = Path(__file__).resolve().parents[1]


def test_mirror_average_is_symmetric(fixture_games):
    """Averaged over both mirror images, a game and its mirror image are predicted alike."""
    torch.manual_seed(0)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=32)).eval()
    game = fixture_games[3]
    mirrored = Game(fen=Board(game.fen).mirror().fen(), moves=[m.mirror() for m in game.moves])
    a = evaluate_games(model, [game], mirror_average=True)
    b = evaluate_games(model, [mirrored], mirror_average=True)
    assert a["moves"] == b["moves"] == len(game.moves)
    assert a["top1"] == b["top1"] and a["top5"] == b["top5"]
    assert abs(a["loss"] - b["loss"]) < 1e-4
    assert evaluate_games(model, [game])["loss"] != a["loss"]


def test_eval_cli_json(tmp_path, wxf15_paths):
    torch.manual_seed(0)
    save_model(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)), tmp_path / "m")
    for context in ("history", "fen"):
        out = subprocess.run([sys.executable, "-m", "xqgpt", "eval", "--pgn", str(wxf15_paths["iccs"]),
                              "--model", str(tmp_path / "m"), "--context", context, "--json"],
                             capture_output=True, text=True, cwd=ROOT, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert {"games", "moves", "top1", "top5", "legal_rate"} <= result.keys()
        assert result["games"] == 15 and result["moves"] == 1378 and result["context"] == context
        assert result["rejected_games"] == 0 and result["mirror_average"] is False
        assert 0 <= result["top1"] <= result["top5"] <= 1
        illegal = result["illegal_by_piece"]  # an untrained model's argmax is mostly illegal
        assert set(illegal) <= {"general", "advisor", "elephant", "horse", "chariot", "cannon", "soldier",
                                "no own piece"}
        assert sum(illegal.values()) == pytest.approx(1 - result["legal_rate"]) and len(illegal) > 1


def test_eval_cli_rejects_files_without_games(tmp_path):
    (tmp_path / "empty.pgn").write_text("")
    cmd = [sys.executable, "-m", "xqgpt", "eval", "--pgn", str(tmp_path / "empty.pgn"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "no readable games" in out.stderr


def test_char_model_evaluates(fixture_games):
    torch.manual_seed(0)
    config = ModelConfig(tokenizer="char", board=False, n_layer=1, n_embd=32, n_head=2, n_positions=32)
    result = evaluate_games(MoveGPT(config), fixture_games[:1])
    assert result["moves"] == len(fixture_games[0].moves)
    assert 0 <= result["top1"] <= 1 and result["loss"] is None and result["top5"] is None


def test_load_games_counts_the_rejected(tmp_path, wxf15_paths):
    games, rejected = load_games([str(wxf15_paths["chinese"])])
    assert len(games) == 15 and rejected == 0
    broken = tmp_path / "broken.pgn"
    broken.write_text('[Event "illegal"]\n\n1. h2e2 h9g7 2. h0g2 a9a1 *\n\n[Event "no moves"]\n\n*\n\n'
                      '[Event "fine"]\n\n1. h2e2 h9g7 *\n')
    games, rejected = load_games([str(broken)])
    assert [g.headers["Event"] for g in games] == ["fine"] and rejected == 2
