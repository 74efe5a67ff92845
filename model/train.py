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
from torch import nn
from tqdm import tqdm

from data.dataset import is_dataset, legal_table, load_split
from xiangqi import VOCAB_SIZE
from xiangqi.encoding import MIRROR_SQUARES, red_to_move
from xiangqi.pgn import Game, read_pgn_file
from xiangqi.vocab import MIRROR_PERMUTATION

from .evaluate import evaluate_games
from .network import ModelConfig, MoveGPT, load_model, save_model
from .plots import plot_curves
from .tokenizer import get_tokenizer

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


class WindowSampler:
    """Draws training windows from a memory-mapped split and packs them into rows.

    A window covers up to ``seq_len`` tokens of one game. With probability ``fen_context`` it
    starts at a random ply with ``BOS`` and no history (as for a FEN given alone); otherwise it
    holds the game's history, starting with ``BOS`` at the first ply or with the previous move.
    With probability ``mirror`` a window is reflected left-right (augmentation). Windows are
    drawn and gathered with vectorized numpy, so batching keeps up with a GPU. Given the split's
    :func:`~data.dataset.legal_table`, each batch also holds the packed legal moves of every
    position and whether its window is mirrored (:func:`legal_masks` unpacks them).
    """

    def __init__(self, split: dict[str, np.ndarray], seq_len: int, tokenizer_kind: str,
                 fen_context: float, rng: np.random.Generator, mirror: float = 0.0,
                 legal: np.ndarray | None = None) -> None:
        self.moves = split["moves"]
        self.boards = split["boards"]
        self.offsets = np.asarray(split["offsets"])
        self.tok = get_tokenizer(tokenizer_kind)
        self.seq_len = seq_len
        self.moves_per_window = seq_len // self.tok.tokens_per_move
        self.fen_context = fen_context
        self.mirror = mirror
        self.rng = rng
        self.legal = legal
        if len(self.moves) == 0:
            raise ValueError("the training split holds no moves")

    def _draw_windows(self, count: int) -> tuple[np.ndarray, ...]:
        """(start ply, length, starts with BOS, mirrored) of ``count`` windows."""
        n = self.moves_per_window
        p = self.rng.integers(len(self.moves), size=count)
        g = np.searchsorted(self.offsets, p, side="right") - 1
        first, last = self.offsets[g], self.offsets[g + 1]
        fen = self.rng.random(count) < self.fen_context
        start = np.where(fen, p, np.maximum(first, p - self.rng.integers(n, size=count)))
        bos = fen | (start == first) | (self.tok.kind == "char")
        mirrored = self.rng.random(count) < self.mirror
        return start, np.minimum(start + n, last) - start, bos, mirrored

    def _layout(self, rows: int) -> tuple[np.ndarray, ...]:
        """Windows packed into ``rows`` rows of ``moves_per_window`` moves, the last window of a
        row cut short: (start ply, length, flat offset, BOS, mirrored) per window."""
        n = self.moves_per_window
        placed: list[tuple[int, int, int, bool, bool]] = []
        row = col = 0
        while row < rows:
            for s, length, b, m in zip(*self._draw_windows(max(8, 2 * rows * n // 64)), strict=True):
                take = min(int(length), n - col)
                placed.append((int(s), take, row * n + col, bool(b), bool(m)))
                col += take
                if col == n:
                    row, col = row + 1, 0
                    if row == rows:
                        break
        return tuple(np.array(column) for column in zip(*placed, strict=True))

    def batch(self, batch_size: int) -> dict[str, torch.Tensor]:
        """A batch of rows of ``seq_len`` tokens, each packed with windows one after another;
        ``positions`` restarts at 0 with every window, as at inference."""
        start, length, flat, bos, mirrored = self._layout(batch_size)
        total = batch_size * self.moves_per_window
        ply = np.repeat(start - flat, length) + np.arange(total)
        offset = np.arange(total) - np.repeat(flat, length)  # move index within its window
        mirror = np.repeat(mirrored, length)
        window_bos = np.repeat(bos, length) & (offset == 0)
        moves = np.asarray(self.moves[ply], dtype=np.int64)
        moves = np.where(mirror, MIRROR_PERMUTATION[moves], moves)
        shape = (batch_size, self.seq_len)
        if self.tok.kind == "char":
            targets = self.tok.encode_indices(moves)
            tokens = np.roll(targets, 1)
            tokens[np.flatnonzero(offset == 0) * 4] = self.tok.bos
            positions = (offset[:, None] * 4 + np.arange(4)).reshape(-1)
            boards = np.zeros((*shape, 90), dtype=np.uint8)
            sides = np.zeros(shape, dtype=np.int64)
        else:
            previous = np.asarray(self.moves[np.maximum(ply - 1, 0)], dtype=np.int64)
            previous = np.where(mirror, MIRROR_PERMUTATION[previous], previous)
            tokens = np.where(window_bos, self.tok.bos, previous)
            targets, positions = moves, offset
            boards = np.asarray(self.boards[ply])
            boards[mirror] = boards[mirror][:, MIRROR_SQUARES]
            sides = red_to_move(boards, moves).astype(np.int64)
        batch = {"tokens": torch.from_numpy(tokens.reshape(shape)),
                 "targets": torch.from_numpy(targets.reshape(shape)),
                 "boards": torch.from_numpy(boards.reshape(*shape, 90)),
                 "sides": torch.from_numpy(sides.reshape(shape)),
                 "positions": torch.from_numpy(positions.reshape(shape))}
        if self.legal is not None:  # packed; see legal_masks()
            batch["legal_bits"] = torch.from_numpy(np.asarray(self.legal[ply]).reshape(*shape, -1))
            batch["mirrored"] = torch.from_numpy(mirror.reshape(shape))
        return batch


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
    if args.init:
        model = load_model(args.init).to(device)
        config = model.config
        if (config.tokenizer, config.n_positions) != (args.tokenizer, args.seq_len):
            raise ValueError(f"--init model has tokenizer {config.tokenizer!r} and {config.n_positions} "
                             f"positions; pass --tokenizer and --seq-len to match")
        if args.line_channels and not config.line_channels:
            model.add_line_encoder(args.line_channels)
        elif args.line_channels not in (0, config.line_channels):
            raise ValueError(f"--init model has a line encoder of {config.line_channels} channels")
    else:
        config = ModelConfig(tokenizer=args.tokenizer, board=args.board and args.tokenizer == "move",
                             n_layer=args.n_layer, n_embd=args.n_embd, n_head=args.n_head,
                             n_positions=args.seq_len, dropout=args.dropout,
                             line_channels=args.line_channels if args.board else 0)
        model = MoveGPT(config).to(device)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        is_matrix = param.dim() >= 2 and not any(k in name for k in ("embedding", "wte", "wpe"))
        (decay if is_matrix else no_decay).append(param)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), fused=device.type == "cuda")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    if args.legal_loss and args.tokenizer != "move":
        raise ValueError("--legal-loss needs the move tokenizer")
    legal = None
    if args.legal_loss:  # rank 0 computes the table once, the other ranks wait for it
        if rank == 0:
            legal_table(args.data, "train")
        if dist.is_initialized():
            dist.barrier()
        legal = legal_table(args.data, "train")
    sampler = WindowSampler(load_split(args.data, "train"), args.seq_len, args.tokenizer, args.fen_context,
                            np.random.default_rng(args.seed + rank), mirror=args.mirror, legal=legal)
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
    save_dtype = torch.float16 if args.save_dtype == "fp16" else None
    if args.resume and args.time_budget:  # keep the schedule that the first run's calibration set
        args.max_steps = json.loads((out / "train_config.json").read_text())["max_steps"]
    saved_args = {k: v for k, v in vars(args).items() if k != "func"}
    if rank == 0:
        (out / "train_config.json").write_text(json.dumps(saved_args, indent=2))
        print(f"model: {model.num_parameters() / 1e6:.2f}M parameters, {config}", flush=True)
    started = time.time()
    calibrate = _Calibration(args, device) if args.time_budget and not args.resume else None
    deadline = started + args.max_minutes * 60 if args.max_minutes else None
    bar = tqdm(total=args.max_steps, initial=step, desc="training", disable=rank != 0, mininterval=2.0)
    record: dict = {}
    tokens_seen = 0
    while step < args.max_steps:
        lr = lr_at(step, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        total_loss = torch.zeros((), device=device)
        for micro in range(args.grad_accum):
            b = {k: _to_device(v, device) for k, v in sampler.batch(args.batch_size).items()}
            sync = micro == args.grad_accum - 1 or world == 1
            ctx = ddp_model.no_sync() if not sync else contextlib.nullcontext()
            with ctx, torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                logits, _ = ddp_model(b["tokens"], b["boards"], b["sides"], position_ids=b["positions"])
                logits = logits.float()
                loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), b["targets"].view(-1))
                if args.legal_loss:
                    legal = legal_masks(b["legal_bits"], b["mirrored"], logits.size(-1))
                    loss = loss + args.legal_loss * illegal_mass_loss(logits, legal)
            (loss / args.grad_accum).backward()
            total_loss += loss.detach() / args.grad_accum
            tokens_seen += b["targets"].numel()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update()
        if calibrate is not None and calibrate.update(step, bar):
            calibrate = None
            if rank == 0:
                saved_args["max_steps"] = args.max_steps
                (out / "train_config.json").write_text(json.dumps(saved_args, indent=2))
        out_of_time = deadline is not None and time.time() > deadline
        evaluate_now = step % args.eval_every == 0 or step == args.max_steps or out_of_time
        if rank == 0 and (step % 50 == 0 or evaluate_now):
            bar.set_postfix(loss=f"{float(total_loss):.3f}", lr=f"{lr:.2e}")
            record = {"step": step, "train_loss": float(total_loss), "lr": lr, "grad_norm": float(grad_norm),
                      "minutes": (time.time() - started) / 60, "tokens": tokens_seen * world}
        if rank == 0 and evaluate_now:
            metrics = evaluate_games(model, val_games, context="history", device=device) if val_games else {}
            keys = ("loss", "top1", "top5", "legal_rate")
            record.update({f"val_{k}": v for k, v in metrics.items() if k in keys})
            bar.write(json.dumps(record))
            if best is None or metrics.get("top1", 0) >= best:
                best = metrics.get("top1", 0)
                save_model(model, out / "best", extra={"train": saved_args, "step": step, "val": metrics},
                           dtype=save_dtype)
            save_model(model, out / "last", extra={"train": saved_args, "step": step, "val": metrics},
                       dtype=save_dtype)
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


def legal_masks(bits: torch.Tensor, mirrored: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Boolean masks [..., vocab_size] from packed legal moves [..., LEGAL_BYTES] (``np.packbits`` order)
    and the mirrored flags [...] of a batch; unpacked on the batch's device."""
    shifts = torch.arange(7, -1, -1, device=bits.device, dtype=torch.uint8)
    mask = ((bits.unsqueeze(-1) >> shifts) & 1).flatten(-2)[..., :VOCAB_SIZE].bool()
    # Move j is legal in a mirror image when its own mirror image is legal in the game.
    mirror = torch.from_numpy(MIRROR_PERMUTATION).to(bits.device)
    mask = torch.where(mirrored.unsqueeze(-1), mask[..., mirror], mask)
    return nn.functional.pad(mask, (0, vocab_size - VOCAB_SIZE))


def illegal_mass_loss(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """Mean of -log P(legal move) over positions: the rules engine teaches the model to keep its
    probability mass on legal moves, so that the unmasked argmax is legal."""
    everything = logits.logsumexp(-1)
    on_legal = logits.masked_fill(~legal, float("-inf")).logsumexp(-1)
    return (everything - on_legal).mean()


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


class _Calibration:
    """``--time-budget``: times steps 20 to 100 and then fixes ``max_steps`` (and with it the
    cosine schedule) so that training ends in about the budget; the step count is saved."""

    FIRST, LAST = 20, 100

    def __init__(self, args: argparse.Namespace, device: torch.device) -> None:
        self.args = args
        self.device = device
        self.began: float | None = None
        self.started = time.time()

    def update(self, step: int, bar: tqdm) -> bool:
        """Called after each step; True once ``max_steps`` is fixed."""
        if step == self.FIRST:
            self.began = time.time()
        if step < self.LAST or self.began is None:
            return False
        per_step = (time.time() - self.began) / (self.LAST - self.FIRST)
        left = self.args.time_budget * 60 * 0.95 - (time.time() - self.started)
        steps = torch.tensor(max(step + 1, step + int(left / per_step)), device=self.device)
        if dist.is_initialized():  # every rank follows rank 0's schedule
            dist.broadcast(steps, 0)
        self.args.max_steps = int(steps)
        bar.total = self.args.max_steps
        bar.write(f"time budget: {per_step:.3f} s/step, max_steps set to {self.args.max_steps}")
        return True


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
