"""The GPT-2 move model: tokenizers, masking, training, checkpoints, evaluation, bad input."""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model.evaluate import evaluate_games, read_games
from model.network import (
    BOARD_CODES,
    LineEncoder,
    ModelConfig,
    ModelLoadError,
    MoveGPT,
    load_model,
    save_model,
)
from model.options import add_train_arguments
from model.policy import Policy
from model.tokenizer import CharTokenizer, MoveTokenizer
from model.train import train
from xiangqi import VOCAB_SIZE, Board, Move, legal_mask
from xiangqi.pgn import Game

ROOT = Path(__file__).resolve().parents[1]


def train_args(data: Path, out: Path, **overrides) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    args = parser.parse_args(["--data", str(data), "--out", str(out)])
    defaults = dict(n_layer=2, n_embd=64, n_head=4, seq_len=32, batch_size=8, warmup=5, max_steps=40,
                    eval_every=1000, eval_games=5, threads=1, lr=3e-3)
    for k, v in {**defaults, **overrides}.items():
        setattr(args, k, v)
    return args


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


def test_tiny_model_loss_falls(fixture_data, tmp_path):
    first = train(train_args(fixture_data, tmp_path / "a", max_steps=1))
    last = train(train_args(fixture_data, tmp_path / "b", max_steps=60))
    assert last["train_loss"] < first["train_loss"] - 1.0
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == 60
    assert (tmp_path / "b" / "curves.png").stat().st_size > 1000


def test_resume_is_exact(fixture_data, tmp_path):
    # All steps stay inside the warm-up, so the learning rate does not depend on max_steps.
    full = train_args(fixture_data, tmp_path / "full", max_steps=12, warmup=50, eval_every=6)
    train(full)
    part = train_args(fixture_data, tmp_path / "part", max_steps=6, warmup=50, eval_every=6)
    train(part)
    resumed = train_args(fixture_data, tmp_path / "part", max_steps=12, warmup=50, eval_every=6, resume=True)
    train(resumed)
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


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


def test_eval_cli_json(tmp_path, wxf15_paths):
    torch.manual_seed(0)
    save_model(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)), tmp_path / "m")
    for context in ("history", "fen"):
        out = subprocess.run([sys.executable, "-m", "xqgpt", "eval", "--pgn", str(wxf15_paths["iccs"]),
                              "--model", str(tmp_path / "m"), "--context", context, "--json"],
                             capture_output=True, text=True, cwd=ROOT, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert {"games", "moves", "top1", "top5", "legal_rate"} <= result.keys()
        assert result["games"] == 15 and result["moves"] == 1378
        assert 0 <= result["top1"] <= result["top5"] <= 1
        illegal = result["illegal_by_piece"]  # an untrained model's argmax is mostly illegal
        assert set(illegal) <= {"general", "advisor", "elephant", "horse", "chariot", "cannon", "soldier",
                                "no own piece"}
        assert sum(illegal.values()) == pytest.approx(1 - result["legal_rate"]) and len(illegal) > 1


def test_char_model_evaluates(tmp_path, fixture_games):
    torch.manual_seed(0)
    config = ModelConfig(tokenizer="char", board=False, n_layer=1, n_embd=32, n_head=2, n_positions=32)
    model = MoveGPT(config)
    result = evaluate_games(model, fixture_games[:1])
    assert result["moves"] == len(fixture_games[0].moves)
    assert 0 <= result["top1"] <= 1
    with pytest.raises(ModelLoadError):
        Policy(model)


def test_bad_model_directories(tmp_path):
    with pytest.raises(ModelLoadError, match="not a model directory"):
        Policy.load(tmp_path / "missing")
    save_model(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)), tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="cannot load"):
        Policy.load(tmp_path / "m")


def test_train_rejects_non_dataset(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a dataset directory"):
        train(train_args(tmp_path, tmp_path / "out"))


def test_game_over_has_no_move():
    policy = Policy(MoveGPT(ModelConfig(n_layer=1, n_embd=32, n_head=2, n_positions=32)))
    mated = Board("3k5/3R5/3R5/9/9/9/9/9/9/4K4 b - - 0 1")  # chariots and the facing general mate
    assert mated.is_checkmate()
    assert policy.candidates(mated) == []
    with pytest.raises(ValueError, match="no legal move"):
        policy.choose(mated)


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
    assert record["step"] == 6
    assert (tmp_path / "ddp" / "last" / "model.safetensors").is_file()


def test_shipped_model_plays_a_full_game():
    policy = Policy.load()  # the model in model/default, offline
    board = Board()
    while not board.is_game_over():
        move = policy.choose(board)
        assert board.is_legal(move)
        board.push(move)
        assert len(board.move_stack) < 1000
    assert board.outcome() is not None
    assert Move.from_uci(board.move_stack[0].uci()) == board.move_stack[0]


def test_fixture_games_are_readable(wxf15_paths):
    games, rejected = read_games([str(wxf15_paths["chinese"])])
    assert len(games) == 15 and rejected == 0


def test_window_sampler_rows_replay_real_games(fixture_data):
    from data.dataset import load_split
    from model.train import WindowSampler
    from xiangqi.vocab import MOVES

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
    from data.dataset import legal_table, load_split
    from model.train import WindowSampler, legal_masks

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
    train(train_args(fixture_data, base, max_steps=5))
    tuned = train(train_args(fixture_data, tmp_path / "tuned", init=str(base / "best"), legal_loss=1.0,
                             max_steps=5, eval_every=5, n_layer=1, n_embd=32, line_channels=4))
    config = json.loads((tmp_path / "tuned" / "best" / "config.json").read_text())
    assert config["model"]["n_layer"] == 2 and config["model"]["n_embd"] == 64  # the init model's shape
    assert config["model"]["line_channels"] == 4  # a line encoder was added and trained
    assert load_model(tmp_path / "tuned" / "best").line_encoder.out.weight.abs().sum() > 0
    assert tuned["step"] == 5 and np.isfinite(tuned["train_loss"])


def test_time_budget_fixes_the_step_count(fixture_data, tmp_path):
    out = tmp_path / "budget"
    record = train(train_args(fixture_data, out, n_layer=1, n_embd=32, max_steps=100_000, time_budget=0.1))
    saved = json.loads((out / "train_config.json").read_text())["max_steps"]
    assert 100 < saved < 100_000  # set from the speed of the first 100 steps
    assert record["step"] == saved and record["minutes"] < 1.0


def test_resuming_a_time_budget_keeps_its_schedule(fixture_data, tmp_path):
    out = tmp_path / "budget"
    first = train(train_args(fixture_data, out, n_layer=1, n_embd=32, max_steps=100_000, time_budget=0.2,
                             max_minutes=0.08))
    saved = json.loads((out / "train_config.json").read_text())["max_steps"]
    assert 100 < first["step"] < saved < 100_000  # calibrated, then stopped early by --max-minutes
    record = train(train_args(fixture_data, out, n_layer=1, n_embd=32, max_steps=100_000, time_budget=0.2,
                              resume=True))
    assert record["step"] == saved
