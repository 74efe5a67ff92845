"""Training the value net (:class:`~model.value.ValueNet`) on engine labels and game results, and
measuring it on the test split: ``xqgpt train-value --data DIR --out DIR [--target both]``.

Targets, for the side to move: the engine's expected score (``score cp`` through
:func:`~model.value.win_probability_from_cp`; a mate for the side to move is 1, against it 0),
learned with binary cross-entropy on the net's win + draw / 2; and the game's result (win, draw or
loss), learned with cross-entropy on the three logits. ``--target engine`` uses the first only
(the net's split of the expected score into win and draw is then unconstrained), ``result`` the
second only, on every position of the training split (labelled or not), ``both`` their sum on the
labelled positions (the result loss weighted by ``--result-weight``).

The measures on a labelled split (:func:`value_metrics`): Brier score and mean absolute error of
the expected score against the engine's; on positions the engine calls decisive (expected score
at least :data:`DECISIVE` for one side, i.e. about 300 cp or a mate), the share where the net
favours the same side; against the results of the games (draws as 1/2), the Brier score, and the
share of positions of won or lost games where the net favours the winner, with the engine's own
numbers beside them; and a calibration plot (``calibration.png``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from data.dataset import load_split
from data.label import load_labels
from xiangqi.encoding import MIRROR_SQUARES, red_to_move

from .options import ValueTrainConfig
from .plots import Curves
from .run import MetricsLog, get_lr, set_lr, start_run, train_loop
from .value import (
    DRAW,
    LOSS,
    WIN,
    ValueConfig,
    ValueNet,
    expected_score,
    save_value,
    to_move_view,
    win_probability_from_cp,
)

DECISIVE = 0.75  # engine expected score (about 300 cp) from which a position counts as decisive
CALIBRATION = "calibration.png"
VALUE_NET = Curves(losses={"train_loss": "train loss", "val_loss": "val loss"},
                   scores={"val_brier": "Brier vs engine", "val_result_brier": "Brier vs results"},
                   loss_label="loss", scores_label="validation Brier score")


def result_class(for_red: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Game results for Red (1, 0, -1; 2 unknown) -> classes for the side to move (WIN, DRAW, LOSS;
    -1 unknown)."""
    for_red = np.asarray(for_red, dtype=np.int64)
    mover = np.where(red, for_red, -for_red)
    return np.select([for_red == 2, mover == 1, mover == 0], [-1, WIN, DRAW], LOSS)


def targets(labels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boards as the side to move sees them [n, 90], the engine's expected score [n] and the
    game's result class [n] (WIN, DRAW, LOSS; -1 unknown), all for the side to move."""
    red = labels["red"].astype(bool)
    score = labels["score"].astype(np.float64)
    engine = np.where(labels["mate"], (score > 0).astype(np.float64), win_probability_from_cp(score))
    return to_move_view(labels["boards"], red), engine.astype(np.float32), result_class(labels["result"], red)


def split_positions(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every position of a split, unlabelled: boards [n, 90] (memory-mapped, as stored), Red to
    move [n] and the game's result class for the side to move [n]."""
    data = load_split(data_dir, split)
    boards = data["boards"]
    red = red_to_move(boards, np.asarray(data["moves"]))
    game = np.searchsorted(np.asarray(data["offsets"]), np.arange(len(red)), side="right") - 1
    return boards, red, result_class(np.asarray(data["results"])[game], red)


def value_loss(logits: torch.Tensor, engine: torch.Tensor, result: torch.Tensor, target: str,
               result_weight: float = 1.0) -> torch.Tensor:
    """The training loss of a batch for a target (``engine``, ``result`` or ``both``)."""
    loss = 0 * logits.sum()  # zero, with a gradient, when a batch has nothing to learn from
    if target in ("engine", "both"):
        p = torch.softmax(logits, -1)
        score = (p[:, WIN] + 0.5 * p[:, DRAW]).clamp(1e-6, 1 - 1e-6)
        loss = loss + nn.functional.binary_cross_entropy(score, engine)
    if target in ("result", "both"):
        known = result >= 0
        if known.any():
            weight = result_weight if target == "both" else 1.0
            loss = loss + weight * nn.functional.cross_entropy(logits[known], result[known])
    return loss


@torch.no_grad()
def predict(net: ValueNet, boards: np.ndarray, batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Logits and W/D/L probabilities [n, 3] of boards already in the side to move's view."""
    was_training = net.training
    net.eval()
    logits = [net(torch.from_numpy(boards[s:s + batch])) for s in range(0, len(boards), batch)]
    net.train(was_training)
    out = torch.cat(logits) if logits else torch.zeros((0, 3))
    return out.numpy(), torch.softmax(out, -1).numpy()


def value_metrics(wdl: np.ndarray, engine: np.ndarray, result: np.ndarray) -> dict:
    """How W/D/L predictions agree with the engine's expected scores and the games' results (see
    the module docstring); a measure without positions to measure is ``None``."""
    score = expected_score(wdl)
    decisive = (engine >= DECISIVE) | (engine <= 1 - DECISIVE)
    decided = (result == WIN) | (result == LOSS)
    known = result >= 0
    result_score = np.select([result == WIN, result == DRAW], [1.0, 0.5], 0.0)

    def mean(x: np.ndarray) -> float | None:  # None (JSON null) for no positions
        return float(np.mean(x)) if len(x) else None

    def favours_winner(s: np.ndarray) -> float | None:
        return mean((s[decided] > 0.5) == (result[decided] == WIN))

    return {
        "positions": len(score),
        "brier": mean((score - engine) ** 2),
        "mae": mean(np.abs(score - engine)),
        "decisive_share": mean(decisive),
        "decisive_accuracy": mean((score[decisive] > 0.5) == (engine[decisive] > 0.5)),
        "result_brier": mean((score[known] - result_score[known]) ** 2),
        "result_log_loss": mean(-np.log(np.clip(wdl[known, result[known]], 1e-9, 1))),
        "winner_accuracy": favours_winner(score),
        "engine_result_brier": mean((engine[known] - result_score[known]) ** 2),
        "engine_winner_accuracy": favours_winner(engine),
    }


def plot_calibration(wdl: np.ndarray, engine: np.ndarray, result: np.ndarray, png_path: str | Path,
                     title: str = "", bins: int = 10) -> None:
    """Mean engine expected score and mean game score against the net's expected score, in
    ``bins`` equal-width bins, with the diagonal of perfect calibration."""
    import matplotlib.pyplot as plt  # model.plots has chosen the Agg backend

    score = expected_score(wdl)
    which = np.minimum((score * bins).astype(int), bins - 1)
    known = result >= 0
    result_score = np.select([result == WIN, result == DRAW], [1.0, 0.5], 0.0)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k:", label="perfect calibration")
    for values, mask, label in ((engine, np.ones_like(known), "engine expected score"),
                                (result_score, known, "game score (draw = 1/2)")):
        points = [(score[(which == b) & mask].mean(), values[(which == b) & mask].mean())
                  for b in range(bins) if ((which == b) & mask).sum() >= 20]
        if points:
            ax.plot(*zip(*points, strict=True), "o-", label=label)
    ax.set_xlabel("value net: expected score of the side to move")
    ax.set_ylabel("observed (mean per bin of at least 20 positions)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title(title or f"value net calibration ({len(score)} positions)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def train_value(config: ValueTrainConfig) -> dict:
    """Train a :class:`ValueNet` on the labelled training positions of a dataset, validate on the
    labelled validation positions, and measure the result on the labelled test positions (when
    there are any). Returns the last metrics record with the test measures under ``"test"``."""
    # init: seeds, threads, output directory
    if config.target not in ("engine", "result", "both"):
        raise ValueError(f"--target must be engine, result or both, not {config.target!r}")
    out, rng = start_run(config.out, config.seed, config.threads)

    # data: labelled positions of each split, in the side to move's view; with the result target
    # alone, every training position of the dataset (stored as they are: turned batch by batch)
    if config.target == "result":
        train_boards, train_red, train_result = split_positions(config.data, "train")
        train_engine = np.full(len(train_red), np.nan, dtype=np.float32)
    else:
        train_boards, train_engine, train_result = targets(load_labels(config.data, "train"))
        train_red = np.ones(len(train_boards), dtype=bool)  # already in the side to move's view
    if not len(train_boards):
        raise ValueError(f"no labelled training positions in {config.data} (run `xqgpt data label`)")
    val = targets(load_labels(config.data, "val"))

    # model and optimizer
    net = ValueNet(ValueConfig(config.channels, config.layers, hidden=config.hidden))
    optimizer = net.configure_optimizers(config.lr, config.weight_decay)

    # loop: a random batch of positions, half of them (``mirror``) reflected left-right
    def step(step: int, max_steps: int) -> dict:
        set_lr(optimizer, get_lr(step, config.lr, config.lr / 10, config.warmup, max_steps))
        idx = np.sort(rng.integers(0, len(train_boards), config.batch_size))
        boards = to_move_view(train_boards[idx], train_red[idx])
        flip = rng.random(len(idx)) < config.mirror
        boards[flip] = boards[flip][:, MIRROR_SQUARES]
        logits = net(torch.from_numpy(boards))
        loss = value_loss(logits, torch.from_numpy(train_engine[idx]), torch.from_numpy(train_result[idx]),
                          config.target, config.result_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"train_positions": len(train_boards), "train_loss": loss.item()}

    # eval and save
    def evaluate(record: dict) -> dict:
        logits_val, wdl_val = predict(net, val[0])
        val_loss = value_loss(*map(torch.from_numpy, (logits_val, val[1], val[2])),
                              config.target, config.result_weight).item()
        metrics = {"val_loss": val_loss,
                   **{f"val_{k}": v for k, v in value_metrics(wdl_val, val[1], val[2]).items()}}
        save_value(net, out, extra={"train": asdict(config), "val": {**record, **metrics}})
        return metrics

    record = train_loop(step, evaluate, max_steps=config.max_steps, eval_every=config.eval_every,
                        max_minutes=config.max_minutes, log=MetricsLog(out), curves=VALUE_NET, desc="value")

    # test: the measures and the calibration plot on the labelled test positions
    try:
        test = targets(load_labels(config.data, "test"))
    except FileNotFoundError:
        return record
    wdl_test = predict(net, test[0])[1]
    record["test"] = value_metrics(wdl_test, test[1], test[2])
    plot_calibration(wdl_test, test[1], test[2], out / CALIBRATION,
                     title=f"value net ({config.target}) on {len(test[0])} test positions")
    val_record = {k: v for k, v in record.items() if k != "test"}
    save_value(net, out, extra={"train": asdict(config), "val": val_record, "test": record["test"]})
    return record
