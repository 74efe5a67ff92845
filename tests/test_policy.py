"""The policy: only legal moves, the KV cache, mirror averaging, bad model directories, the
shipped model, and what serving a move imports."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model.accuracy import evaluate_games
from model.network import ModelConfig, ModelLoadError, MoveGPT, save_model
from model.policy import Policy
from xiangqi import Board, Termination

ROOT = Path(__file__).resolve().parents[1]


def test_untrained_policy_only_proposes_legal_moves():
    torch.manual_seed(0)
    policy = Policy(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=64)))
    rng = random.Random(1)
    board = Board()
    for _ in range(120):
        if board.is_game_over():
            board = Board()
        cands = policy.candidates(board)
        legal = set(board.legal_moves)
        assert {m for m, _ in cands} == legal
        assert abs(sum(p for _, p in cands) - 1) < 1e-4
        move = policy.choose(board, temperature=1.5, rng=rng)
        assert move in legal
        board.push(move)


@pytest.mark.parametrize("mirror_average", [False, True])
def test_kv_cache_matches_full_recompute(fixture_games, mirror_average):
    torch.manual_seed(0)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=16))
    cached = Policy(model, mirror_average=mirror_average)
    fresh = Policy(model, mirror_average=mirror_average)
    boards = [Board(), Board()]
    for ply in range(40):  # two games interleaved; crosses the 16-position window twice
        for board, game in zip(boards, fixture_games[:2], strict=True):
            a = cached.candidates(board, k=3)
            fresh.clear_cache()
            b = fresh.candidates(board, k=3)
            assert [m for m, _ in a] == [m for m, _ in b]
            assert np.allclose([p for _, p in a], [p for _, p in b], atol=1e-4)
            board.push(game.moves[ply])
    assert len(cached._cache) == 2  # one per game; the mirror image is a second row of it


def test_policy_and_evaluation_agree(fixture_games):
    """Playing and evaluating rank moves alike: the policy's best move is evaluate's top-1 (the
    game fits in one window, where both see the same context)."""
    torch.manual_seed(0)
    model = MoveGPT(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=128)).eval()
    game = fixture_games[5]
    policy = Policy(model, mirror_average=True)
    board, hits = game.board(), 0
    for move in game.moves:
        hits += policy.candidates(board, k=1)[0][0] == move
        board.push(move)
    assert evaluate_games(model, [game], mirror_average=True)["top1"] == hits / len(game.moves)


def test_game_over_has_no_move():
    policy = Policy(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)))
    mated = Board("3k5/3R5/3R5/9/9/9/9/9/9/4K4 b - - 0 1")  # chariots and the facing general mate
    assert mated.is_checkmate()
    assert policy.candidates(mated) == []
    with pytest.raises(ValueError, match="no legal move"):
        policy.choose(mated)


def test_character_models_cannot_play():
    config = ModelConfig(tokenizer="char", board=False, n_layer=1, n_embd=32, n_head=2, n_positions=32)
    with pytest.raises(ModelLoadError, match="only move-token models"):
        Policy(MoveGPT(config))


def test_bad_model_directories(tmp_path):
    with pytest.raises(ModelLoadError, match="not a model directory"):
        Policy.load(tmp_path / "missing")
    save_model(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)), tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="cannot load"):
        Policy.load(tmp_path / "m")


def test_shipped_model_plays_a_full_game(shipped_policy):
    """Greedy self-play of the shipped model: a master's opening, then legal moves to an end the
    rules decide."""
    board = Board()
    while not board.is_game_over() and len(board.move_stack) < 1000:
        board.push(shipped_policy.choose(board))
    assert board.move_stack[0].uci() in {"h2e2", "b2e2", "c3c4", "g3g4", "b0c2", "h0g2", "c0e2", "g0e2"}
    outcome = board.outcome()
    assert outcome is not None, "no end after 1000 plies"
    replay = Board()
    for move in board.move_stack:
        assert replay.is_legal(move)
        replay.push(move)
    assert replay.outcome() == outcome
    if outcome.termination is Termination.CHECKMATE:
        assert board.is_checkmate() and outcome.winner == (not board.turn)


def test_serving_imports_no_training_code():
    """``import model.policy`` loads the networks, not matplotlib, the dataset builder or training."""
    code = "import sys, model.policy; print('\\n'.join(sys.modules))"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         check=True)
    modules = set(out.stdout.split())
    assert {"torch", "model.policy", "model.ensemble", "model.legality"} <= modules
    training = ("model.train", "model.plots", "model.run", "model.accuracy", "model.options")
    loaded = [m for m in modules if m.split(".")[0] in ("matplotlib", "data") or m.startswith(training)]
    assert loaded == []


def test_the_light_policy_shares_the_weights_and_mostly_agrees(shipped_policy, fixture_games):
    """Policy.light() (a search's leaves): the first member alone, no legality net, no mirror
    image, on the same tensors; its top move is the full policy's on most fixture positions."""
    light = shipped_policy.light()
    full_params = {p.data_ptr() for p in shipped_policy.model.parameters()}
    full_params |= {b.data_ptr() for b in shipped_policy.model.buffers()}
    assert all(t.data_ptr() in full_params for t in [*light.model.parameters(), *light.model.buffers()])
    assert not light.mirror_average
    boards = []
    for game in fixture_games[:8]:
        board = game.board()
        for ply, move in enumerate(game.moves[:60]):
            board.push(move)
            if ply % 12 == 11:
                boards.append(board.copy())
    full = shipped_policy.candidates_many(boards, history=2)
    cheap = light.candidates_many(boards, history=2)
    for cands in cheap:
        assert sum(p for _, p in cands) == pytest.approx(1.0, abs=1e-4)
    agree = np.mean([a[0][0] == b[0][0] for a, b in zip(full, cheap, strict=True)])
    assert agree >= 0.75, agree
