"""Side-by-side at equal compute: ICCS character tokens vs one token per move (without and with
the board-state input).

    .venv/bin/python bench/tokenizer_comparison.py --data data/ccpd --steps 1500

Each variant trains the same GPT-2 (4 layers x 128) for the same number of steps of the same
batch of 16 x 128 tokens, i.e. the same compute, then predicts every move of the first
``--games`` test games with their history. Prints a Markdown
table and writes bench/tokenizer_comparison.png. Runs go to runs/compare/.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from model.accuracy import evaluate_games, load_games  # noqa: E402
from model.network import load_model  # noqa: E402
from model.options import TrainConfig  # noqa: E402
from model.train import train  # noqa: E402

HERE = Path(__file__).resolve().parent
VARIANTS = {
    "char (ICCS, 4 tokens/move)": {"tokenizer": "char", "board": False},
    "move (1 token/move)": {"tokenizer": "move", "board": False},
    "move + board state": {"tokenizer": "move"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/ccpd")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--games", type=int, default=40)
    parser.add_argument("--out", default="runs/compare")
    args = parser.parse_args()
    torch.set_num_threads(1)
    games = load_games([str(Path(args.data) / "test.pgn")])[0][: args.games]
    rows = []
    for name, options in VARIANTS.items():
        run = Path(args.out) / name.split()[0] / ("board" if "board" in name else "plain")
        record = train(TrainConfig(data=args.data, out=str(run), n_layer=4, n_embd=128, n_head=4, seq_len=128,
                                   batch_size=16, max_steps=args.steps, warmup=100, eval_every=args.steps,
                                   eval_games=0, threads=1, dtype="bf16", **options))
        result = evaluate_games(load_model(run / "last"), games)
        rows.append({"variant": name, "steps": record["step"], "moves_seen": record["tokens"]
                     // (4 if "char" in name else 1), **result})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.steps} steps of 16 x 128 tokens each, 4 layers x 128; {rows[0]['moves']} test moves "
          f"from {len(games)} games (history context)\n")
    print("| variant | steps | moves seen | top-1 | top-5 | unmasked legal |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        top5 = "—" if r["top5"] is None else f"{r['top5']:.1%}"
        print(f"| {r['variant']} | {r['steps']} | {r['moves_seen']:,} | {r['top1']:.1%} | {top5} | "
              f"{r['legal_rate']:.1%} |")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar([r["variant"] for r in rows], [r["top1"] for r in rows])
    ax.set_ylabel("top-1 on test moves")
    ax.set_title(f"equal compute: {args.steps} steps of 16 x 128 tokens each")
    fig.tight_layout()
    fig.savefig(HERE / "tokenizer_comparison.png", dpi=100)


if __name__ == "__main__":
    main()
