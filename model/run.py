"""The training loop the three trainers share, with its schedule and metrics log.

:mod:`model.train` (the move model), :mod:`model.train_legality` (the legality net) and
:mod:`model.train_value` (the value net) each say how to take one optimizer step and how to
evaluate and save; :func:`train_loop` does the rest the same way for all three: the steps, a
cosine schedule with linear warm-up (:func:`get_lr`), one JSON record a line in
``OUT/metrics.jsonl`` (:class:`MetricsLog`) drawn by :func:`model.plots.plot_curves`, evaluation
every ``eval_every`` steps, at the end and when ``max_minutes`` run out (:func:`out_of_time`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .plots import Curves, plot_curves

METRICS = "metrics.jsonl"
CURVES = "curves.png"


def start_run(out: str | Path, seed: int, threads: int | None) -> tuple[Path, np.random.Generator]:
    """Seed PyTorch, set its threads (``None``: its default) and make the run directory ``out``;
    returns the directory and a numpy generator seeded with ``seed``."""
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out, np.random.default_rng(seed)


def get_lr(step: int, lr: float, min_lr: float, warmup: int, max_steps: int) -> float:
    """Learning rate of step ``step`` (0-based): linear warm-up over ``warmup`` steps, then cosine
    decay from ``lr`` to ``min_lr`` at ``max_steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, max_steps - warmup))
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group of ``optimizer``."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def out_of_time(started: float, max_minutes: float | None) -> bool:
    """Whether a run begun at ``started`` (``time.time()``) has used up ``max_minutes`` (none: never)."""
    return bool(max_minutes) and time.time() - started > max_minutes * 60


class MetricsLog:
    """A run directory's ``metrics.jsonl``: started empty, or continued when resuming."""

    def __init__(self, out: Path, resume: bool = False) -> None:
        self.path = out / METRICS
        if not resume:
            self.path.write_text("")

    def write(self, record: dict) -> None:
        """Append one record (a JSON line)."""
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")

    def records(self) -> list[dict]:
        """Every record written so far, the resumed runs' included."""
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def train_loop(step: Callable[[int, int], dict], evaluate: Callable[[dict], dict], *, max_steps: int,
               eval_every: int, max_minutes: float | None, log: MetricsLog | None, curves: Curves,
               desc: str, start: int = 0, log_every: int | None = None,
               resize: Callable[[int], int | None] | None = None) -> dict:
    """Run steps ``start`` to ``max_steps``: ``step(step, max_steps)`` takes one optimizer step
    and returns the training fields of its record (``train_loss``, ...); after every
    ``eval_every`` steps, the last, and the one that uses up ``max_minutes``,
    ``evaluate(record)`` (the record so far: ``step``, ``minutes`` and the training fields)
    evaluates, saves and returns the validation fields. Each record
    (also every ``log_every`` steps without evaluation) goes to ``log`` with ``step`` and
    ``minutes``, and the curves are drawn after each evaluation; with no ``log`` (a DDP rank other
    than 0) nothing is evaluated, written or shown. ``resize(steps_done)`` may return a new
    ``max_steps`` (a time budget). Returns the last record."""
    started = time.time()
    out = log.path.parent if log is not None else None
    bar = tqdm(total=max_steps, initial=start, desc=desc, unit="step", disable=log is None, mininterval=2.0)
    record: dict = {}
    done = start
    while done < max_steps:
        fields = step(done, max_steps)
        done += 1
        bar.update()
        if resize is not None and (fixed := resize(done)) is not None:
            max_steps = bar.total = fixed
            bar.write(f"{desc}: max_steps set to {max_steps}")
        expired = out_of_time(started, max_minutes)
        evaluate_now = done % eval_every == 0 or done == max_steps or expired
        if log is not None and (evaluate_now or (log_every and done % log_every == 0)):
            record = {"step": done, "minutes": (time.time() - started) / 60, **fields}
            if evaluate_now:
                record.update(evaluate(record))
                bar.write(json.dumps(record))
            log.write(record)
            if evaluate_now:
                plot_curves(log.records(), out / CURVES, curves)
        if expired:
            break
    bar.close()
    return record
