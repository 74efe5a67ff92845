"""Training the legality net (:class:`~model.legality.LegalityNet`) on a dataset's legal-move table.

``xqgpt train-legality --data DIR --out DIR [--max-minutes M]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from data.dataset import legal_table, load_split, unpack_legal
from xiangqi import VOCAB_SIZE
from xiangqi.encoding import red_to_move

from .legality import LegalityConfig, LegalityNet, save_legality
from .plots import plot_legality_curves


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


def train_legality(args: argparse.Namespace) -> dict:
    """Train a :class:`LegalityNet` on the training positions of a dataset; evaluate on
    validation positions (their legal moves computed by the rules engine)."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    train = load_split(args.data, "train")
    bits = legal_table(args.data, "train")
    boards_all = train["boards"]
    sides_all = position_sides(train)
    val = load_split(args.data, "val")
    n_val = min(args.val_positions, len(val["moves"]))
    val_boards = np.asarray(val["boards"][:n_val])
    val_sides = position_sides(val)[:n_val]
    val_legal = unpack_legal(legal_table(args.data, "val")[:n_val])

    net = LegalityNet(LegalityConfig(args.channels, args.layers, args.hidden))
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.0)
    settings = {k: v for k, v in vars(args).items() if not callable(v)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "metrics.jsonl").open("w")
    start = time.time()
    steps = args.max_steps
    record: dict = {}
    for step in tqdm(range(1, steps + 1), desc="legality", unit="step"):
        lr = args.lr * min(1.0, step / 100) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = np.sort(rng.integers(0, len(sides_all), args.batch_size))
        moves = torch.from_numpy(rng.choice(VOCAB_SIZE, args.moves_per_step, replace=False))
        logits = net(torch.from_numpy(np.asarray(boards_all[idx])), torch.from_numpy(sides_all[idx]), moves)
        target = torch.from_numpy(unpack_legal(bits[idx])[:, moves.numpy()]).float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        out_of_time = bool(args.max_minutes) and time.time() - start > args.max_minutes * 60
        if step % args.eval_every == 0 or step == steps or out_of_time:
            record = {"step": step, "minutes": (time.time() - start) / 60, "train_loss": loss.item(),
                      **legality_metrics(net, val_boards, val_sides, val_legal)}
            log.write(json.dumps(record) + "\n")
            log.flush()
            save_legality(net, out, extra={"train": settings, "val": record})
            plot_legality_curves(out / "metrics.jsonl", out / "curves.png")
            tqdm.write(json.dumps(record))
        if out_of_time:
            break
    return record

