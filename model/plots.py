"""PNG plots of training curves (both trainers: the move model and the legality net)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@dataclass(frozen=True)
class Curves:
    """What to draw from a run's metrics records: record key -> label of each curve."""

    losses: dict[str, str]  # left panel
    scores: dict[str, str]  # right panel, validation scores
    loss_label: str
    scores_label: str
    log_scale: bool = False  # both panels on a log scale (else the scores on 0..1)


MOVE_MODEL = Curves(losses={"train_loss": "train loss", "val_loss": "val loss"},
                    scores={"val_top1": "top-1", "val_top5": "top-5", "val_legal_rate": "legal rate"},
                    loss_label="cross-entropy", scores_label="validation accuracy")
LEGALITY_NET = Curves(losses={"train_loss": "train loss"},
                      scores={"false_legal_per_position": "illegal moves called legal",
                              "false_illegal_per_position": "legal moves called illegal"},
                      loss_label="binary cross-entropy", scores_label="per validation position",
                      log_scale=True)


def plot_curves(records: list[dict], png_path: str | Path, curves: Curves) -> None:
    """Plot the losses (left) and validation scores (right) of metrics records against steps;
    a curve has a point for each record that holds its key."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    panels = ((curves.losses, curves.loss_label), (curves.scores, curves.scores_label))
    for ax, (keys, ylabel) in zip(axes, panels, strict=True):
        for key, label in keys.items():
            points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
            if points:
                style = "-" if len(points) > 50 else "o-"
                ax.plot(*zip(*points, strict=True), style, label=label, alpha=0.8)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        if curves.log_scale:
            ax.set_yscale("log")
    if not curves.log_scale:
        axes[1].set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
