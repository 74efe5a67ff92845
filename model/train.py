"""Training loop: ``xqgpt train --data DIR --out DIR``.

AdamW with linear warm-up and cosine decay, gradient clipping and accumulation, bf16 autocast
where the device supports it, a fixed seed, periodic validation, exactly resumable checkpoints,
a JSONL metrics log and a PNG of the curves. Runs unchanged under ``torchrun`` (DDP): each
process draws its own batches, rank 0 evaluates and writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from data.dataset import is_dataset, legal_table, load_split
from xiangqi import VOCAB_SIZE
from xiangqi.encoding import MIRROR_SQUARES, red_to_move
from xiangqi.pgn import Game
from xiangqi.vocab import MIRROR_PERMUTATION

from .accuracy import evaluate_games, load_games
from .network import ModelConfig, MoveGPT, load_model, save_model
from .options import TrainConfig
from .plots import MOVE_MODEL
from .run import MetricsLog, get_lr, set_lr, train_loop
from .tokenizer import get_tokenizer

CHECKPOINT = "checkpoint.pt"
RUN_CONFIG = "train_config.json"
LOG_EVERY = 50  # steps between records of the training loss
VAL_KEYS = ("loss", "top1", "top5", "legal_rate")  # validation metrics recorded as val_<key>


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


def train(config: TrainConfig) -> dict:
    """Train a model as ``config`` says; returns the last metrics record (empty on DDP ranks
    other than 0)."""
    # init: processes, device, seeds, run directory
    if not is_dataset(config.data):
        raise FileNotFoundError(f"{config.data} is not a dataset directory (run `xqgpt data build` first)")
    if config.legal_loss and config.tokenizer != "move":
        raise ValueError("--legal-loss needs the move tokenizer")
    rank, world = setup_distributed()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = get_device(config.device, world)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    random.seed(config.seed)

    # model and optimizer
    model = get_model(config).to(device)
    optimizer = model.configure_optimizers(config.weight_decay, config.lr, device.type)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True

    # data: training windows (with legal-move masks for --legal-loss), validation games
    legal = get_legal_table(config.data, rank) if config.legal_loss else None
    sampler = WindowSampler(load_split(config.data, "train"), config.seq_len, config.tokenizer,
                            config.fen_context, np.random.default_rng(config.seed + rank),
                            mirror=config.mirror, legal=legal)
    val_games = get_val_games(config.data, config.eval_games) if rank == 0 else []

    # resume: weights, optimizer, step, best score and random streams from the checkpoint
    step_done, best, max_steps = 0, None, config.max_steps
    if config.resume:
        step_done, best = load_checkpoint(out / CHECKPOINT, model, optimizer, sampler, config.seed, rank)
        if config.time_budget:  # keep the schedule that the first run's calibration set
            max_steps = json.loads((out / RUN_CONFIG).read_text())["max_steps"]
    ddp_model = model
    if world > 1:
        device_ids = [device.index] if device.type == "cuda" else None
        ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    settings = {**asdict(config), "max_steps": max_steps}
    log = MetricsLog(out, resume=config.resume) if rank == 0 else None
    if rank == 0:
        (out / RUN_CONFIG).write_text(json.dumps(settings, indent=2))
        print(f"model: {model.num_parameters() / 1e6:.2f}M parameters, {model.config}", flush=True)

    # loop: one optimizer step over grad_accum micro-batches (DDP syncs gradients on the last)
    amp = autocast_dtype(device, config.dtype)
    save_dtype = torch.float16 if config.save_dtype == "fp16" else None
    budget = TimeBudget(config.time_budget, device) if config.time_budget and not config.resume else None
    tokens_seen = 0

    def step(step: int, max_steps: int) -> dict:
        nonlocal tokens_seen
        lr = get_lr(step, config.lr, config.min_lr, config.warmup, max_steps)
        set_lr(optimizer, lr)
        model.train()
        train_loss = torch.zeros((), device=device)
        for micro in range(config.grad_accum):
            batch = get_batch(sampler, config.batch_size, device)
            sync = micro == config.grad_accum - 1 or world == 1
            with contextlib.nullcontext() if sync else ddp_model.no_sync():
                with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                    loss = compute_loss(ddp_model, batch, config.legal_loss)
                (loss / config.grad_accum).backward()
            train_loss += loss.detach() / config.grad_accum
            tokens_seen += batch["targets"].numel()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return {"train_loss": float(train_loss), "lr": lr, "grad_norm": float(grad_norm),
                "tokens": tokens_seen * world}

    # --time-budget: the step count is fixed once steps 20 to 100 are timed
    def resize(step: int) -> int | None:
        nonlocal budget
        if budget is None or (fixed := budget.max_steps(step)) is None:
            return None
        tqdm.write(f"time budget: {budget.per_step:.3f} s/step")
        settings["max_steps"], budget = fixed, None
        if rank == 0:
            (out / RUN_CONFIG).write_text(json.dumps(settings, indent=2))
        return fixed

    # eval and save (rank 0): the best and last models and an exactly resumable checkpoint
    def evaluate(record: dict) -> dict:
        nonlocal best
        metrics = evaluate_games(model, val_games, device=device) if val_games else {}
        extra = {"train": settings, "step": record["step"], "val": metrics}
        if best is None or metrics.get("top1", 0) >= best:
            best = metrics.get("top1", 0)
            save_model(model, out / "best", extra=extra, dtype=save_dtype)
        save_model(model, out / "last", extra=extra, dtype=save_dtype)
        save_checkpoint(out / CHECKPOINT, model, optimizer, record["step"], best, sampler)
        return {f"val_{k}": v for k, v in metrics.items() if k in VAL_KEYS}

    record = train_loop(step, evaluate, max_steps=max_steps, eval_every=config.eval_every,
                        max_minutes=config.max_minutes, log=log, curves=MOVE_MODEL, desc="training",
                        start=step_done, log_every=LOG_EVERY, resize=resize)
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return record


def setup_distributed() -> tuple[int, int]:
    """(rank, world size): joins the process group when started by ``torchrun``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world


def get_device(name: str, world: int) -> torch.device:
    """The device ``--device`` names (``auto``: CUDA when there is one); under DDP on CUDA, this
    process's GPU (``LOCAL_RANK``)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device


def autocast_dtype(device: torch.device, dtype: str = "auto") -> torch.dtype | None:
    """The autocast dtype: bf16 on GPUs that support it (``auto``) or when asked, else None (fp32)."""
    if dtype == "fp32":
        return None
    if dtype == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def get_model(config: TrainConfig) -> MoveGPT:
    """A new model of the config's shape, or the ``init`` model (with a line encoder added when
    ``line_channels`` asks for one it lacks)."""
    if not config.init:
        board = config.board and config.tokenizer == "move"
        return MoveGPT(ModelConfig(tokenizer=config.tokenizer, board=board, n_layer=config.n_layer,
                                   n_embd=config.n_embd, n_head=config.n_head, n_positions=config.seq_len,
                                   dropout=config.dropout,
                                   line_channels=config.line_channels if config.board else 0))
    model = load_model(config.init)
    init = model.config
    if (init.tokenizer, init.n_positions) != (config.tokenizer, config.seq_len):
        raise ValueError(f"--init model has tokenizer {init.tokenizer!r} and {init.n_positions} "
                         f"positions; pass --tokenizer and --seq-len to match")
    if config.line_channels and not init.line_channels:
        model.add_line_encoder(config.line_channels)
    elif config.line_channels not in (0, init.line_channels):
        raise ValueError(f"--init model has a line encoder of {init.line_channels} channels")
    return model


def get_legal_table(data: str, rank: int) -> np.ndarray:
    """The training split's packed legal moves: rank 0 computes the table once, the other ranks
    wait for it."""
    if rank == 0:
        legal_table(data, "train")
    if dist.is_initialized():
        dist.barrier()
    return legal_table(data, "train")


def get_val_games(data: str, limit: int) -> list[Game]:
    """The first ``limit`` games of the dataset's ``val.pgn`` (none when it has none)."""
    path = Path(data) / "val.pgn"
    return load_games([str(path)])[0][:limit] if path.is_file() else []


def get_batch(sampler: WindowSampler, batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
    """A batch of training rows on ``device`` (through pinned memory on CUDA)."""
    batch = sampler.batch(batch_size)
    if device.type != "cuda":
        return batch
    return {k: v.pin_memory().to(device, non_blocking=True) for k, v in batch.items()}


def compute_loss(model: nn.Module, batch: dict[str, torch.Tensor], legal_weight: float) -> torch.Tensor:
    """Cross-entropy of the next move, plus ``legal_weight`` x :func:`illegal_mass_loss`."""
    logits, _ = model(batch["tokens"], batch["boards"], batch["sides"], position_ids=batch["positions"])
    logits = logits.float()
    loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), batch["targets"].view(-1))
    if legal_weight:
        legal = legal_masks(batch["legal_bits"], batch["mirrored"], logits.size(-1))
        loss = loss + legal_weight * illegal_mass_loss(logits, legal)
    return loss


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


class TimeBudget:
    """``--time-budget``: times steps 20 to 100, then gives the step count (and with it the cosine
    schedule) that ends training in about the budget."""

    FIRST, LAST = 20, 100

    def __init__(self, minutes: float, device: torch.device) -> None:
        self.minutes = minutes
        self.device = device
        self.started = time.time()
        self.began: float | None = None
        self.per_step = 0.0  # seconds, once measured

    def max_steps(self, step: int) -> int | None:
        """Called after each step: None until step ``LAST``, then the step count (rank 0's on
        every DDP rank)."""
        if step == self.FIRST:
            self.began = time.time()
        if step < self.LAST or self.began is None:
            return None
        self.per_step = (time.time() - self.began) / (self.LAST - self.FIRST)
        left = self.minutes * 60 * 0.95 - (time.time() - self.started)
        steps = torch.tensor(max(step + 1, step + int(left / self.per_step)), device=self.device)
        if dist.is_initialized():
            dist.broadcast(steps, 0)
        return int(steps)


def save_checkpoint(path: Path, model: MoveGPT, optimizer: torch.optim.Optimizer, step: int,
                    best: float | None, sampler: WindowSampler) -> None:
    """Everything :func:`load_checkpoint` needs to continue exactly, written atomically."""
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "best": best,
                "sampler_rng": sampler.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "config": model.config.__dict__}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, model: MoveGPT, optimizer: torch.optim.Optimizer, sampler: WindowSampler,
                    seed: int, rank: int) -> tuple[int, float | None]:
    """Restore the model, optimizer and random streams of a checkpoint; returns (step, best val
    top-1). Rank 0 continues its sampler's stream, other DDP ranks draw a fresh one per step."""
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume: {path} does not exist")
    device = next(model.parameters()).device
    ckpt = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if rank == 0:
        sampler.rng.bit_generator.state = ckpt["sampler_rng"]
    else:
        sampler.rng = np.random.default_rng([seed, rank, ckpt["step"]])
    torch.set_rng_state(ckpt["torch_rng"].cpu())
    return ckpt["step"], ckpt.get("best")
