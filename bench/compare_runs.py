"""Compare training runs: validation curves from each run's metrics.jsonl, and each run's best
model on the first test games.

    .venv/bin/python bench/compare_runs.py runs/line_cmp/c0 runs/line_cmp/c16 \
        --labels "linear board" "+ line encoder" --games 200 --png bench/line_encoder.png

Prints a Markdown table (steps trained, minutes, test top-1, top-5, legal rate and the share of
illegal argmaxes that would move a cannon) and writes a PNG of validation top-1 and legal rate
against the step.
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

from model.accuracy import evaluate_games, load_games  # noqa: E402
from model.network import load_model  # noqa: E402


def read_metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of `xqgpt train`")
    parser.add_argument("--labels", nargs="+", default=None,
                        help="one per run (default: the directory names)")
    parser.add_argument("--test", default="data/ccpd/test.pgn")
    parser.add_argument("--games", type=int, default=200, help="test games to predict")
    parser.add_argument("--png", type=Path, default=Path("bench/compare_runs.png"))
    args = parser.parse_args()
    labels = args.labels or [run.name for run in args.runs]
    if len(labels) != len(args.runs):
        parser.error("give one label per run")
    games = load_games([args.test])[0][: args.games]

    print("| run | steps | minutes | test top-1 | top-5 | legal | cannon share of illegal |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for run, label in zip(args.runs, labels, strict=True):
        records = read_metrics(run)
        val = [r for r in records if "val_top1" in r]
        steps = [r["step"] for r in val]
        ax1.plot(steps, [100 * r["val_top1"] for r in val], "o-", label=label)
        ax2.plot(steps, [100 * r["val_legal_rate"] for r in val], "o-", label=label)
        result = evaluate_games(load_model(run / "best"), games, progress=True)
        illegal = result["illegal_by_piece"]
        cannon = illegal.get("cannon", 0.0) / max(sum(illegal.values()), 1e-12)
        last = records[-1]
        print(f"| {label} | {last['step']:,} | {last['minutes']:.0f} | {100 * result['top1']:.1f}% "
              f"| {100 * result['top5']:.1f}% | {100 * result['legal_rate']:.1f}% | {100 * cannon:.0f}% |")
    ax1.set_title("validation top-1 (%)")
    ax2.set_title("validation legal rate of the unmasked argmax (%)")
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=100)
    print(f"wrote {args.png} ({len(games)} test games)")


if __name__ == "__main__":
    main()
