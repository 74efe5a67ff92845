"""Training the move model: configs from the command line, the schedule, loss, exact resume,
DDP, the window sampler, legal-move masks, fine-tuning and the time budget."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from data.dataset import legal_table, load_split
from model.network import load_model
from model.options import (
    LegalityTrainConfig,
    TrainConfig,
    add_legality_arguments,
    add_train_arguments,
)
from model.run import get_lr
from model.tokenizer import MoveTokenizer
from model.train import WindowSampler, legal_masks, train
from xiangqi import VOCAB_SIZE, Board, legal_mask
from xiangqi.vocab import MOVES

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(n_layer=2, n_embd=64, n_head=4, seq_len=32, batch_size=8, warmup=5, max_steps=40, eval_every=1000,
            eval_games=5, threads=1, lr=3e-3)


def tiny_config(data: Path, out: Path, **overrides) -> TrainConfig:
    """A small, fast model and run."""
    return TrainConfig(data=str(data), out=str(out), **{**TINY, **overrides})


def metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_command_line_options_fill_the_configs():
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    assert TrainConfig.from_args(parser.parse_args(["--data", "d", "--out", "o"])) == TrainConfig("d", "o")
    args = parser.parse_args(["--data", "d", "--out", "o", "--no-board", "--n-layer", "3",
                              "--time-budget", "5", "--save-dtype", "fp16", "--resume"])
    assert TrainConfig.from_args(args) == TrainConfig("d", "o", board=False, n_layer=3, time_budget=5.0,
                                                      save_dtype="fp16", resume=True)
    parser = argparse.ArgumentParser()
    add_legality_arguments(parser)
    args = parser.parse_args(["--data", "d", "--out", "o", "--moves-per-step", "64"])
    assert LegalityTrainConfig.from_args(args) == LegalityTrainConfig("d", "o", moves_per_step=64)


def test_schedule_warms_up_then_decays_to_the_minimum():
    lrs = [get_lr(step, 1e-3, 1e-4, warmup=10, max_steps=110) for step in range(120)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)  # linear warm-up
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))  # then never rises
    assert lrs[60] == pytest.approx((1e-3 + 1e-4) / 2)  # halfway down the cosine
    assert lrs[110] == lrs[119] == pytest.approx(1e-4)  # and stays at the minimum


def test_tiny_model_loss_falls(fixture_data, tmp_path):
    first = train(tiny_config(fixture_data, tmp_path / "a", max_steps=1))
    last = train(tiny_config(fixture_data, tmp_path / "b", max_steps=60))
    assert last["train_loss"] < first["train_loss"] - 1.0
    assert [r["step"] for r in metrics(tmp_path / "b")] == [50, 60]  # every 50 steps, and at the end
    assert {"val_loss", "val_top1", "val_top5", "val_legal_rate"} <= metrics(tmp_path / "b")[-1].keys()
    assert (tmp_path / "b" / "curves.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "b" / "train_config.json").read_text())
    assert saved["max_steps"] == 60 and saved["n_embd"] == 64
    assert json.loads((tmp_path / "b" / "best" / "config.json").read_text())["train"] == saved


def test_resume_is_exact(fixture_data, tmp_path):
    # All steps stay inside the warm-up, so the learning rate does not depend on max_steps.
    train(tiny_config(fixture_data, tmp_path / "full", max_steps=12, warmup=50, eval_every=6))
    train(tiny_config(fixture_data, tmp_path / "part", max_steps=6, warmup=50, eval_every=6))
    train(tiny_config(fixture_data, tmp_path / "part", max_steps=12, warmup=50, eval_every=6, resume=True))
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert [r["step"] for r in metrics(tmp_path / "part")] == [6, 12]  # the log goes on
    train(tiny_config(fixture_data, tmp_path / "part", max_steps=6, warmup=50, eval_every=6))
    assert [r["step"] for r in metrics(tmp_path / "part")] == [6]  # a fresh run starts it anew


def test_train_rejects_bad_input(fixture_data, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a dataset directory"):
        train(tiny_config(tmp_path, tmp_path / "out"))
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(tiny_config(fixture_data, tmp_path / "new", resume=True))
    with pytest.raises(ValueError, match="needs the move tokenizer"):
        train(tiny_config(fixture_data, tmp_path / "char", tokenizer="char", legal_loss=1.0))


def test_ddp_two_cpu_processes(fixture_data, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as s:  # a free port, so that no other process can collide with the test
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port,
           "-m", "xqgpt", "train", "--data", str(fixture_data), "--out", str(tmp_path / "ddp"),
           "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--seq-len", "32", "--batch-size", "4",
           "--max-steps", "6", "--eval-every", "3", "--eval-games", "2", "--warmup", "2", "--threads", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads(out.stdout.strip().splitlines()[-1])
    assert record["step"] == 6 and record["tokens"] == 2 * 6 * 4 * 32  # both processes' batches
    assert (tmp_path / "ddp" / "last" / "model.safetensors").is_file()


def test_window_sampler_rows_replay_real_games(fixture_data):
    split = load_split(str(fixture_data), "train")
    sampler = WindowSampler(split, 48, "move", fen_context=0.25, rng=np.random.default_rng(0), mirror=0.5)
    batch = {k: v.numpy() for k, v in sampler.batch(16).items()}
    tokens, targets, boards = batch["tokens"], batch["targets"], batch["boards"]
    positions = batch["positions"]
    assert tokens.shape == targets.shape == positions.shape == (16, 48) and boards.shape == (16, 48, 90)
    starts = positions == 0
    assert starts[:, 0].all() and 16 < starts.sum() < 16 * 48
    assert (tokens[~starts] == targets[:, :-1][~starts[:, 1:]]).all()  # each token is the move before
    assert ((tokens == MoveTokenizer.bos) <= starts).all()
    checked = 0
    for r in range(16):
        for t in range(47):
            move = MOVES[targets[r, t]]
            piece = boards[r, t, move.from_square]
            assert piece != 0 and batch["sides"][r, t] == int(piece <= 7)
            if positions[r, t + 1] > 0:  # the move leads to the next board of the window
                after = boards[r, t].copy()
                after[move.to_square], after[move.from_square] = piece, 0
                assert (after == boards[r, t + 1]).all()
                checked += 1
    assert checked > 400


def test_legal_masks_and_fine_tuning_from_a_model(fixture_data, tmp_path):
    table = legal_table(str(fixture_data), "train", workers=2)
    assert table.shape == (len(load_split(str(fixture_data), "train")["moves"]), 261)  # 2,086 bits
    start = np.unpackbits(table[0], count=VOCAB_SIZE).astype(bool)  # the fixture games open normally
    assert (start == legal_mask(Board())).all()
    sampler = WindowSampler(load_split(str(fixture_data), "train"), 32, "move", fen_context=0.25,
                            rng=np.random.default_rng(1), mirror=0.5, legal=table)
    batch = sampler.batch(4)
    legal = legal_masks(batch["legal_bits"], batch["mirrored"], MoveTokenizer.vocab_size)
    targets = batch["targets"]
    assert legal.shape == (4, 32, MoveTokenizer.vocab_size)
    assert legal.gather(-1, targets[..., None]).all()  # the move played is always legal
    assert 25 < legal.sum(-1).float().mean() < 50 and not legal[..., MoveTokenizer.pad:].any()

    base = tmp_path / "base"
    train(tiny_config(fixture_data, base, max_steps=5))
    tuned = train(tiny_config(fixture_data, tmp_path / "tuned", init=str(base / "best"), legal_loss=1.0,
                              max_steps=5, eval_every=5, n_layer=1, n_embd=32, line_channels=4))
    config = json.loads((tmp_path / "tuned" / "best" / "config.json").read_text())
    assert config["model"]["n_layer"] == 2 and config["model"]["n_embd"] == 64  # the init model's shape
    assert config["model"]["line_channels"] == 4  # a line encoder was added and trained
    assert load_model(tmp_path / "tuned" / "best").line_encoder.out.weight.abs().sum() > 0
    assert tuned["step"] == 5 and np.isfinite(tuned["train_loss"])


def test_time_budget_fixes_the_step_count(fixture_data, tmp_path):
    out = tmp_path / "budget"
    record = train(tiny_config(fixture_data, out, n_layer=1, n_embd=32, max_steps=100_000, time_budget=0.1))
    saved = json.loads((out / "train_config.json").read_text())["max_steps"]
    assert 100 < saved < 100_000  # set from the speed of steps 20 to 100
    assert record["step"] == saved
    assert record["lr"] == pytest.approx(get_lr(saved - 1, 3e-3, 1e-4, 5, saved))  # the schedule ends there
    assert record["lr"] < 1.1e-4


def test_resuming_a_time_budget_keeps_its_schedule(fixture_data, tmp_path):
    """--resume with --time-budget takes max_steps from train_config.json, where the first run's
    calibration wrote it, instead of timing steps again."""
    out = tmp_path / "budget"
    train(tiny_config(fixture_data, out, n_layer=1, n_embd=32, max_steps=10, eval_every=10))
    saved = json.loads((out / "train_config.json").read_text())
    (out / "train_config.json").write_text(json.dumps({**saved, "max_steps": 15}))  # as if calibrated
    record = train(tiny_config(fixture_data, out, n_layer=1, n_embd=32, max_steps=100_000, time_budget=0.2,
                               eval_every=10, resume=True))
    assert record["step"] == 15 and record["lr"] == pytest.approx(get_lr(14, 3e-3, 1e-4, 5, 15))
    assert json.loads((out / "train_config.json").read_text())["max_steps"] == 15
