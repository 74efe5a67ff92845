"""Training the legality net (:class:`~model.legality.LegalityNet`) on a dataset's legal-move table.

``xqgpt train-legality --data DIR --out DIR [--max-minutes M]``.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch
from torch import nn

from data.dataset import legal_table, load_split, unpack_legal
from xiangqi import VOCAB_SIZE
from xiangqi.encoding import red_to_move

from .legality import LegalityConfig, LegalityNet, save_legality
from .options import LegalityTrainConfig
from .plots import LEGALITY_NET
from .run import MetricsLog, get_lr, set_lr, start_run, train_loop

WARMUP = 100  # warm-up steps


def position_sides(split: dict[str, np.ndarray]) -> np.ndarray:
    """Side to move (1 = Red) of every position of a split."""
    return red_to_move(np.asarray(split["boards"]), np.asarray(split["moves"])).astype(np.int64)


@torch.no_grad()
def legality_metrics(net: LegalityNet, boards: np.ndarray, sides: np.ndarray, legal: np.ndarray,
                     batch: int = 1024) -> dict:
    """Per-move error rate, false-legal and false-illegal counts per position, and the share of
    positions whose whole legal set is right."""
    was_training = net.training
    net.eval()
    wrong = false_legal = false_illegal = exact = 0
    for s in range(0, len(boards), batch):
        pred = net(torch.tensor(boards[s:s + batch]), torch.tensor(sides[s:s + batch])) > 0
        truth = torch.from_numpy(legal[s:s + batch])
        fl, fi = (pred & ~truth).sum(-1), (~pred & truth).sum(-1)
        false_legal += int(fl.sum())
        false_illegal += int(fi.sum())
        exact += int(((fl + fi) == 0).sum())
        wrong += int((fl + fi).sum())
    net.train(was_training)
    n = max(len(boards), 1)
    return {"positions": len(boards), "move_error": wrong / (n * VOCAB_SIZE),
            "false_legal_per_position": false_legal / n, "false_illegal_per_position": false_illegal / n,
            "exact": exact / n}


def train_legality(config: LegalityTrainConfig) -> dict:
    """Train a :class:`LegalityNet` on the training positions of a dataset; evaluate on
    validation positions (their legal moves computed by the rules engine). Returns the last
    metrics record."""
    # init: seeds, threads, output directory
    out, rng = start_run(config.out, config.seed, config.threads)

    # data: training positions with packed legal moves, validation positions unpacked
    train = load_split(config.data, "train")
    train_bits = legal_table(config.data, "train")
    train_sides = position_sides(train)
    val = load_split(config.data, "val")
    n_val = min(config.val_positions, len(val["moves"]))
    val_boards = np.asarray(val["boards"][:n_val])
    val_sides = position_sides(val)[:n_val]
    val_legal = unpack_legal(legal_table(config.data, "val")[:n_val])

    # model and optimizer
    net = LegalityNet(LegalityConfig(config.channels, config.layers, config.hidden))
    optimizer = net.configure_optimizers(config.lr)

    # loop: a random batch of positions, scored on a random subset of the vocabulary
    def step(step: int, max_steps: int) -> dict:
        set_lr(optimizer, get_lr(step, config.lr, 0.0, WARMUP, max_steps))
        idx = np.sort(rng.integers(0, len(train_sides), config.batch_size))
        moves = torch.from_numpy(rng.choice(VOCAB_SIZE, config.moves_per_step, replace=False))
        boards, sides = torch.from_numpy(np.asarray(train["boards"][idx])), torch.from_numpy(train_sides[idx])
        logits = net(boards, sides, moves)
        target = torch.from_numpy(unpack_legal(train_bits[idx])[:, moves.numpy()]).float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"train_loss": loss.item()}

    # eval and save
    def evaluate(record: dict) -> dict:
        metrics = legality_metrics(net, val_boards, val_sides, val_legal)
        save_legality(net, out, extra={"train": asdict(config), "val": {**record, **metrics}})
        return metrics

    return train_loop(step, evaluate, max_steps=config.max_steps, eval_every=config.eval_every,
                      max_minutes=config.max_minutes, log=MetricsLog(out), curves=LEGALITY_NET,
                      desc="legality")
