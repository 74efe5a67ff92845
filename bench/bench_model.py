"""Model latency per move on the CPU: history of 100 plies, with and without the KV cache.

    .venv/bin/python bench/bench_model.py [--model DIR] [--games N]

For each of N long test games the policy follows the game to ply 100, then the next 20 moves
are timed one by one: ``cached`` keeps the policy's KV cache between moves (as in play), and
``uncached`` clears it first, so the whole window is recomputed (the peer in the same run).
Prints a Markdown table and writes bench/model_latency.png.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from model.accuracy import load_games  # noqa: E402
from model.policy import Policy  # noqa: E402

HERE = Path(__file__).resolve().parent


def measure(policy: Policy, games, history: int = 100, moves: int = 20) -> dict[str, list[float]]:
    cold = Policy(policy.model, mirror_average=policy.mirror_average)  # cache cleared before every move
    times: dict[str, list[float]] = {"cached": [], "uncached": []}
    for game in games:
        board = game.board()
        for move in game.moves[:history]:
            board.push(move)
        policy.candidates(board)
        for move in game.moves[history:history + moves]:
            board.push(move)
            for mode, p in (("uncached", cold), ("cached", policy)):
                if mode == "uncached":
                    cold.clear_cache()
                t = time.perf_counter()
                p.candidates(board)
                times[mode].append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--pgn", default=str(HERE.parent / "data" / "ccpd" / "test.pgn"),
                        help="games to follow (default: the test split of the CCPD build)")
    parser.add_argument("--games", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    policy = Policy.load(args.model)
    games = [g for g in load_games([args.pgn])[0] if len(g.moves) >= 120][: args.games]
    if not games:
        raise SystemExit(f"no game of 120 plies or more in {args.pgn}")
    times = measure(policy, games)
    print(f"{len(games)} games, plies 101-120, {args.threads} thread(s)\n")
    print("| mode | moves | p50 ms | p90 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for mode, ts in times.items():
        q = statistics.quantiles(ts, n=10)
        print(f"| {mode} | {len(ts)} | {statistics.median(ts):.1f} | {q[8]:.1f} | {max(ts):.1f} |")
    ratio = statistics.median(times["uncached"]) / statistics.median(times["cached"])
    print(f"\nKV cache speed-up (median): {ratio:.1f}x")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([times["cached"], times["uncached"]], bins=30, label=["cached (play)", "uncached"])
    ax.set_xlabel("ms per move (history 100 plies)")
    ax.set_ylabel("moves")
    ax.legend()
    fig.tight_layout()
    fig.savefig(HERE / "model_latency.png", dpi=100)


if __name__ == "__main__":
    main()
