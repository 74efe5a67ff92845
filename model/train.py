"""Training loop: ``xqgpt train --data DIR --out DIR``.

AdamW with linear warm-up and cosine decay, gradient clipping and accumulation, bf16 autocast
where the device supports it, a fixed seed, periodic validation, exactly resumable checkpoints,
a JSONL metrics log and a PNG of the curves. Runs unchanged under ``torchrun`` (DDP): each
process draws its own batches, rank 0 evaluates and writes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from xiangqi.pgn import Game, read_pgn_file
from xiangqi.vocab import MIRROR_PERMUTATION

from .dataset import is_dataset, load_split
from .evaluate import evaluate_games
from .features import FROM_SQUARE, MIRROR_SQUARES
from .network import ModelConfig, MoveGPT, save_model
from .plots import plot_curves
from .tokenizer import get_tokenizer

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


class WindowSampler:
    """Draws training windows from a memory-mapped split.

    A window covers up to ``seq_len`` moves of one game; windows are packed into rows. With
    probability ``fen_context`` it starts at a random ply with ``BOS`` and no history (as for a FEN
    given alone); otherwise it holds the game's history, starting with ``BOS`` at the first ply or
    with the previous move.
    With probability ``mirror`` a window is reflected left-right (augmentation).
    """

    def __init__(self, split: dict[str, np.ndarray], seq_len: int, tokenizer_kind: str,
                 fen_context: float, rng: np.random.Generator, mirror: float = 0.0) -> None:
        self.moves = split["moves"]
        self.boards = split["boards"]
        self.offsets = np.asarray(split["offsets"])
        self.tok = get_tokenizer(tokenizer_kind)
        self.seq_len = seq_len
        self.moves_per_window = seq_len // self.tok.tokens_per_move
        self.fen_context = fen_context
        self.mirror = mirror
        self.rng = rng
        if len(self.moves) == 0:
            raise ValueError("the training split holds no moves")

    def _window(self) -> tuple[int, int, bool]:
        """(start ply, end ply, starts with BOS) of one window, in global ply indices."""
        n = self.moves_per_window
        p = int(self.rng.integers(len(self.moves)))
        g = int(np.searchsorted(self.offsets, p, side="right")) - 1
        first, last = int(self.offsets[g]), int(self.offsets[g + 1])
        if self.rng.random() < self.fen_context:
            start = p
        else:
            start = max(first, p - int(self.rng.integers(n)))
        return start, min(start + n, last), start == first or self.tok.kind == "char"

    def _segment(self) -> tuple[np.ndarray, ...]:
        """(tokens, targets, boards, sides) of one window."""
        start, end, bos = self._window()
        moves = np.asarray(self.moves[start:end], dtype=np.int64)
        if self.tok.kind == "char":
            chars = self.tok.encode_indices(moves)
            tokens = np.concatenate([[self.tok.bos], chars[:-1]])
            n = len(chars)
            return tokens, chars, np.zeros((n, 90), dtype=np.uint8), np.zeros(n, dtype=np.int64)
        first = self.tok.bos if bos else int(self.moves[start - 1])
        boards = np.asarray(self.boards[start:end])
        if self.rng.random() < self.mirror:
            boards = boards[:, MIRROR_SQUARES]
            moves = MIRROR_PERMUTATION[moves]
            first = first if bos else int(MIRROR_PERMUTATION[first])
        codes = boards[np.arange(len(moves)), FROM_SQUARE[moves]]
        sides = ((codes >= 1) & (codes <= 7)).astype(np.int64)
        return np.concatenate([[first], moves[:-1]]), moves, boards, sides

    def batch(self, batch_size: int) -> dict[str, torch.Tensor]:
        """A batch of rows of ``seq_len`` positions, each packed with windows one after another;
        ``positions`` restarts at 0 with every window, as at inference."""
        T = self.seq_len
        tokens = np.empty((batch_size, T), dtype=np.int64)
        targets = np.empty((batch_size, T), dtype=np.int64)
        boards = np.empty((batch_size, T, 90), dtype=np.uint8)
        sides = np.empty((batch_size, T), dtype=np.int64)
        positions = np.empty((batch_size, T), dtype=np.int64)
        for i in range(batch_size):
            pos = 0
            while pos < T:
                seg_tokens, seg_targets, seg_boards, seg_sides = self._segment()
                n = min(len(seg_tokens), T - pos)
                tokens[i, pos:pos + n] = seg_tokens[:n]
                targets[i, pos:pos + n] = seg_targets[:n]
                boards[i, pos:pos + n] = seg_boards[:n]
                sides[i, pos:pos + n] = seg_sides[:n]
                positions[i, pos:pos + n] = np.arange(n)
                pos += n
        return {"tokens": torch.from_numpy(tokens), "targets": torch.from_numpy(targets),
                "boards": torch.from_numpy(boards), "sides": torch.from_numpy(sides),
                "positions": torch.from_numpy(positions)}


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay from ``lr`` to ``min_lr`` at ``max_steps``."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, args.max_steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device, dtype: str = "auto") -> torch.dtype | None:
    """The autocast dtype: bf16 on GPUs that support it (``auto``) or when asked, else None (fp32)."""
    if dtype == "fp32":
        return None
    if dtype == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def load_val_games(data: str, limit: int) -> list[Game]:
    path = Path(data) / "val.pgn"
    games = [g for g in read_pgn_file(str(path)) if isinstance(g, Game)] if path.is_file() else []
    return games[:limit]


def _setup_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world


def train(args: argparse.Namespace) -> dict:
    """Train a model as ``args`` say; returns the last metrics record."""
    if not is_dataset(args.data):
        raise FileNotFoundError(f"{args.data} is not a dataset directory (run `xqgpt data build` first)")
    rank, world = _setup_distributed()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    config = ModelConfig(tokenizer=args.tokenizer, board=args.board and args.tokenizer == "move",
                         n_layer=args.n_layer, n_embd=args.n_embd, n_head=args.n_head,
                         n_positions=args.seq_len, dropout=args.dropout)
    model = MoveGPT(config).to(device)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        is_matrix = param.dim() >= 2 and not any(k in name for k in ("embedding", "wte", "wpe"))
        (decay if is_matrix else no_decay).append(param)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95))
    sampler = WindowSampler(load_split(args.data, "train"), args.seq_len, args.tokenizer, args.fen_context,
                            np.random.default_rng(args.seed + rank), mirror=args.mirror)
    step = 0
    best = None
    ckpt_path = out / CHECKPOINT
    if args.resume:
        if not ckpt_path.is_file():
            raise FileNotFoundError(f"nothing to resume: {ckpt_path} does not exist")
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step = ckpt["step"]
        best = ckpt.get("best")
        if rank == 0:
            sampler.rng.bit_generator.state = ckpt["sampler_rng"]
        else:  # other DDP ranks draw a fresh stream per resume point
            sampler.rng = np.random.default_rng([args.seed, rank, step])
        torch.set_rng_state(ckpt["torch_rng"])
    ddp_model = model
    if world > 1:
        device_ids = [device.index] if device.type == "cuda" else None
        ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    val_games = load_val_games(args.data, args.eval_games) if rank == 0 else []
    amp = autocast_dtype(device, args.dtype)
    saved_args = {k: v for k, v in vars(args).items() if k != "func"}
    if rank == 0:
        (out / "train_config.json").write_text(json.dumps(saved_args, indent=2))
        print(f"model: {model.num_parameters() / 1e6:.2f}M parameters, {config}", flush=True)
    started = time.time()
    deadline = started + args.max_minutes * 60 if args.max_minutes else None
    bar = tqdm(total=args.max_steps, initial=step, desc="training", disable=rank != 0, mininterval=2.0)
    record: dict = {}
    tokens_seen = 0
    while step < args.max_steps:
        lr = lr_at(step, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        total_loss = 0.0
        for micro in range(args.grad_accum):
            b = {k: v.to(device, non_blocking=True) for k, v in sampler.batch(args.batch_size).items()}
            sync = micro == args.grad_accum - 1 or world == 1
            ctx = ddp_model.no_sync() if not sync else contextlib.nullcontext()
            with ctx, torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                logits, _ = ddp_model(b["tokens"], b["boards"], b["sides"], position_ids=b["positions"])
                loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.size(-1)),
                                                         b["targets"].view(-1), ignore_index=-100)
            (loss / args.grad_accum).backward()
            total_loss += loss.item() / args.grad_accum
            tokens_seen += int((b["targets"] >= 0).sum())
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{total_loss:.3f}", lr=f"{lr:.2e}")
        out_of_time = deadline is not None and time.time() > deadline
        evaluate_now = step % args.eval_every == 0 or step == args.max_steps or out_of_time
        if rank == 0 and (step % 50 == 0 or evaluate_now):
            record = {"step": step, "train_loss": total_loss, "lr": lr, "grad_norm": float(grad_norm),
                      "minutes": (time.time() - started) / 60, "tokens": tokens_seen * world}
        if rank == 0 and evaluate_now:
            metrics = evaluate_games(model, val_games, context="history", device=device) if val_games else {}
            keys = ("loss", "top1", "top5", "legal_rate")
            record.update({f"val_{k}": v for k, v in metrics.items() if k in keys})
            bar.write(json.dumps(record))
            if best is None or metrics.get("top1", 0) >= best:
                best = metrics.get("top1", 0)
                save_model(model, out / "best", extra={"train": saved_args, "step": step, "val": metrics})
            save_model(model, out / "last", extra={"train": saved_args, "step": step, "val": metrics})
            _save_checkpoint(ckpt_path, model, optimizer, step, best, sampler)
        if rank == 0 and record.get("step") == step:
            with open(out / METRICS, "a") as f:
                f.write(json.dumps(record) + "\n")
            if "val_top1" in record:
                plot_curves(out / METRICS, out / "curves.png")
        if out_of_time:
            break
    bar.close()
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return record


def _save_checkpoint(path: Path, model: MoveGPT, optimizer, step: int, best, sampler: WindowSampler) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "best": best,
                "sampler_rng": sampler.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "config": model.config.__dict__}, tmp)
    os.replace(tmp, path)


def main(args: argparse.Namespace) -> int:
    record = train(args)
    if record and int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(record))
    return 0
