"""A value head on the move model's trunk, against the board CNN, on the same engine labels.

    nice -n 10 .venv/bin/python bench/trunk_probe.py --data runs/merged [--train 6144] [--val 2048]

The labelled positions of a dataset (``xqgpt data label``: the engine's expected score for the side
to move) are read by the first member of the shipped move model as in play (its game from the start,
or the window of :func:`model.policy.window_start`); the hidden states of layers 4, 6 and 8 at each
position are the probe's input. On ``--train`` labels of the training split a ridge regression (on
the score's logit) and a small MLP are fitted for each layer, and a 16 × 3 board CNN
(:class:`model.value.ValueNet`) is trained on the same labels; each is measured by Spearman's rank
correlation against the engine on ``--val`` labels of the validation split, beside the shipped value
net. A Markdown table goes to stdout, the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.review_quality import spearman  # noqa: E402
from data.dataset import load_split  # noqa: E402
from data.label import load_labels  # noqa: E402
from model.ensemble import load_any  # noqa: E402
from model.policy import default_model_dir, window_start  # noqa: E402
from model.tokenizer import MoveTokenizer  # noqa: E402
from model.value import ValueConfig, ValueNet, load_value, to_move_view, win_probability_from_cp  # noqa: E402
from xiangqi.encoding import MIRROR_SQUARES, red_to_move  # noqa: E402

LAYERS = (4, 6, 8)
BATCH = 32


def labelled(data: str, split: str, limit: int) -> dict[str, np.ndarray]:
    """The first ``limit`` labels of a split and the engine's expected score of each."""
    labels = load_labels(data, split, check=False)
    n = min(limit, len(labels["index"]))
    out = {k: v[:n] for k, v in labels.items()}
    score = out["score"].astype(float)
    out["target"] = np.where(out["mate"], (score > 0).astype(float), win_probability_from_cp(score))
    return out


@torch.inference_mode()
def hidden_states(member, data: str, split: str, index: np.ndarray) -> np.ndarray:
    """[n, 512 * len(LAYERS)]: the member's hidden states at the positions ``index`` of a split."""
    arrays = load_split(data, split)
    offsets, moves, boards = np.asarray(arrays["offsets"]), arrays["moves"], arrays["boards"]
    game = np.searchsorted(offsets, index, side="right") - 1
    ply = index - offsets[game]
    start = np.array([window_start(int(p), member.config.n_positions) for p in ply])
    length = ply - start + 1
    order = np.argsort(length)
    out = np.zeros((len(index), member.config.n_embd * len(LAYERS)), np.float32)
    for b in tqdm(range(0, len(index), BATCH), desc=f"trunk ({split})", unit="batch"):
        rows = order[b:b + BATCH]
        width = int(length[rows].max())
        x = torch.full((len(rows), width), MoveTokenizer.bos, dtype=torch.long)
        codes = torch.zeros((len(rows), width, 90), dtype=torch.uint8)
        sides = torch.zeros((len(rows), width), dtype=torch.long)
        for r, j in enumerate(rows):
            first = int(offsets[game[j]])
            span = np.arange(first + start[j], first + ply[j] + 1)
            tokens = [MoveTokenizer.bos if t == 0 else int(moves[first + t - 1])
                      for t in range(start[j], ply[j] + 1)]
            x[r, :len(span)] = torch.tensor(tokens)
            codes[r, :len(span)] = torch.from_numpy(np.asarray(boards[span]))
            red = red_to_move(np.asarray(boards[span]), np.asarray(moves[span]).astype(np.int64))
            sides[r, :len(span)] = torch.from_numpy(red.astype(np.int64))
        positions = torch.arange(width)[None].expand(len(rows), width)
        result = member.gpt.transformer(inputs_embeds=member.embed(x, codes, sides), position_ids=positions,
                                        output_hidden_states=True)
        last = torch.from_numpy(length[rows] - 1)
        states = [result.hidden_states[k][torch.arange(len(rows)), last] for k in LAYERS]
        out[rows] = torch.cat(states, -1).numpy()
    return out


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.02, 0.98)
    return np.log(p / (1 - p))


def ridge(x: np.ndarray, y: np.ndarray, xv: np.ndarray, lam: float) -> np.ndarray:
    """Ridge regression on the logit of ``y`` (standardized inputs); expected scores of ``xv``."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    a, t = (x - mean) / std, logit(y)
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ (t - t.mean()))
    return 1 / (1 + np.exp(-(((xv - mean) / std) @ w + t.mean())))


def mlp(x: np.ndarray, y: np.ndarray, xv: np.ndarray, epochs: int = 30) -> np.ndarray:
    """A 512-128-1 MLP with dropout, binary cross-entropy on ``y``; expected scores of ``xv``."""
    torch.manual_seed(0)
    mean, std = x.mean(0), x.std(0) + 1e-6
    xt, yt = torch.from_numpy(((x - mean) / std).astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(128, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    for _ in range(epochs):
        for batch in torch.randperm(len(xt)).split(256):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt[batch])[:, 0], yt[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy(((xv - mean) / std).astype(np.float32)))[:, 0]).numpy()


def board_cnn(train: dict, val: dict, steps: int = 1000) -> np.ndarray:
    """A 16 × 3 :class:`ValueNet` trained on the same labels (engine target, mirror images);
    expected scores of the validation positions."""
    torch.manual_seed(0)
    x = torch.from_numpy(to_move_view(train["boards"], train["red"].astype(bool)))
    y = torch.from_numpy(train["target"].astype(np.float32))
    mirror = torch.from_numpy(np.asarray(MIRROR_SQUARES))
    net = ValueNet(ValueConfig())
    opt = net.configure_optimizers(1e-3, 1e-2)
    for _ in tqdm(range(steps), desc="board CNN", unit="step"):
        j = torch.randint(0, len(x), (256,))
        xb = x[j].clone()
        flip = torch.rand(len(j)) < 0.5
        xb[flip] = xb[flip][:, mirror]
        p = torch.softmax(net(xb), -1)
        score = (p[:, 0] + p[:, 1] / 2).clamp(1e-6, 1 - 1e-6)
        loss = torch.nn.functional.binary_cross_entropy(score, y[j])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        xv = torch.from_numpy(to_move_view(val["boards"], val["red"].astype(bool)))
        p = torch.softmax(net(xv), -1).numpy()
    return p[:, 0] + p[:, 1] / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a dataset with labelled train and val splits")
    parser.add_argument("--train", type=int, default=6144, help="labelled training positions")
    parser.add_argument("--val", type=int, default=2048, help="labelled validation positions")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train, val = labelled(args.data, "train", args.train), labelled(args.data, "val", args.val)
    member = next(iter(getattr(load_any(default_model_dir()), "members", []))).eval()
    x = hidden_states(member, args.data, "train", train["index"].astype(np.int64))
    xv = hidden_states(member, args.data, "val", val["index"].astype(np.int64))
    shipped = load_value().wdl(val["boards"], val["red"].astype(bool))
    rows = {f"the board, 16 × 3 CNN trained on the same {len(train['target'])} labels":
            board_cnn(train, val),
            "the shipped value net": shipped[:, 0] + shipped[:, 1] / 2}
    width = member.config.n_embd
    for k, layer in enumerate(LAYERS):
        part, part_v = x[:, k * width:(k + 1) * width], xv[:, k * width:(k + 1) * width]
        rows[f"trunk layer {layer}: ridge regression (best of three penalties)"] = max(
            (ridge(part, train["target"], part_v, lam) for lam in (1e2, 1e3, 1e4)),
            key=lambda p: spearman(p, val["target"]))
        rows[f"trunk layer {layer}: MLP"] = mlp(part, train["target"], part_v)
    table = {name: round(spearman(p, val["target"]), 3) for name, p in rows.items()}
    print(f"\n| value input | ρ against the engine ({len(val['target'])} validation labels) |\n|---|---:|")
    for name, rho in table.items():
        print(f"| {name} | {rho} |")
    print(json.dumps({"train": len(train["target"]), "val": len(val["target"]), "spearman": table}))


if __name__ == "__main__":
    main()
