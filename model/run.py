"""What both trainers share: the learning-rate schedule and a run's metrics log.

:mod:`model.train` (the move model), :mod:`model.train_legality` (the legality net) and
:mod:`model.train_value` (the value net) all step a
cosine schedule with linear warm-up, append one JSON record a line to ``OUT/metrics.jsonl`` and
draw it with :func:`model.plots.plot_curves`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

METRICS = "metrics.jsonl"
CURVES = "curves.png"


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
