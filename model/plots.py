"""PNG plots of training curves."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(metrics_path: str | Path, png_path: str | Path) -> None:
    """Plot training loss, validation loss and validation accuracy against steps."""
    records = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    train = [(r["step"], r["train_loss"]) for r in records if "train_loss" in r]
    val = [r for r in records if "val_top1" in r]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    if train:
        ax1.plot(*zip(*train, strict=True), label="train loss", alpha=0.7)
    if val:
        ax1.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="val loss")
        for key, label in (("val_top1", "top-1"), ("val_top5", "top-5"), ("val_legal_rate", "legal rate")):
            ax2.plot([r["step"] for r in val], [r[key] for r in val], "o-", label=label)
    ax1.set_xlabel("step")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax2.set_xlabel("step")
    ax2.set_ylabel("validation accuracy")
    ax2.set_ylim(0, 1)
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def plot_legality_curves(metrics_path: str | Path, png_path: str | Path) -> None:
    """Plot a legality net's training loss and its validation errors per position against steps."""
    records = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    steps = [r["step"] for r in records]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(steps, [r["train_loss"] for r in records], "o-", label="train loss (binary cross-entropy)")
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.legend()
    for key, label in (("false_legal_per_position", "illegal moves called legal"),
                       ("false_illegal_per_position", "legal moves called illegal")):
        ax2.plot(steps, [r[key] for r in records], "o-", label=label)
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_ylabel("per validation position")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
