"""Strength table: every playing level against random and greedy, and the levels against each other.

    .venv/bin/python bench/strength.py --games 100 --openings 4 [--uci "uci:/usr/games/fairy-stockfish?..."]

Prints a Markdown table (score and Elo of the first player, with its 95% interval) and draws
``bench/strength.png``. Each pairing is one ``xqgpt arena`` match (colours alternating, openings
of ``--openings`` random plies played from both sides).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from play.arena import DEFAULT_MAX_PLIES, run_match, summarize  # noqa: E402
from play.levels import DEFAULT_LEVEL, LEVELS  # noqa: E402


def pairings(model: str, engines: list[str]) -> list[tuple[str, str]]:
    """Greedy vs random, each level vs both, each pair of levels (stronger first), the default vs engines."""
    spec = lambda level: f"model:{level}" + (f"@{model}" if model else "")
    levels = list(LEVELS)
    pairs = [("greedy", "random")]
    pairs += [(spec(level), baseline) for baseline in ("random", "greedy") for level in levels]
    pairs += [(spec(b), spec(a)) for a, b in itertools.combinations(levels, 2)]
    pairs += [(spec(DEFAULT_LEVEL), engine) for engine in engines]
    return pairs


def short(spec: str) -> str:
    """A player spec without the model directory or the engine's folder."""
    if spec.startswith("uci:"):
        command, sep, options = spec[4:].partition("?")
        return Path(command.split()[0]).name + sep + options
    return spec.split("@")[0]


def markdown(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = ["| first player | second player | games | +win =draw -loss | score | Elo diff [95%] |",
             "|---|---|---:|---|---:|---|"]
    for r in rows:
        lines.append(f"| {short(r['first'])} | {short(r['second'])} | {r['games']} "
                     f"| +{r['first_wins']} ={r['draws']} -{r['second_wins']} | {r['score']:.3f} "
                     f"| {r['elo_diff']:+.0f} [{r['elo_95'][0]:+.0f}, {r['elo_95'][1]:+.0f}] |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Horizontal bars: Elo difference of the first player with its 95% interval, one per pairing."""
    labels = [f"{short(r['first'])} vs {short(r['second'])} ({r['score']:.2f})" for r in rows]
    elos = [r["elo_diff"] for r in rows]
    errors = [[e - r["elo_95"][0] for e, r in zip(elos, rows, strict=True)],
              [r["elo_95"][1] - e for e, r in zip(elos, rows, strict=True)]]
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(rows) + 1.8))
    y = range(len(rows))
    ax.barh(y, elos, xerr=errors, color=["tab:green" if e >= 0 else "tab:red" for e in elos], capsize=3)
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Elo difference of the first player with its 95% interval (score in brackets)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=100, help="games per pairing")
    parser.add_argument("--level-games", type=int, default=None,
                        help="games per pairing of two levels (default: --games)")
    parser.add_argument("--openings", type=int, default=4, help="random opening plies")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--uci", action="append", default=[],
                        help="also play the default level vs this engine spec")
    parser.add_argument("--movetime", type=int, default=100)
    parser.add_argument("--max-plies", type=int, default=DEFAULT_MAX_PLIES)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default=str(ROOT / "bench" / "strength.png"))
    parser.add_argument("--label", default="", help="words for the plot title, e.g. the model's name")
    args = parser.parse_args(argv)
    rows = []
    start = time.monotonic()
    for first, second in pairings(args.model, args.uci):
        both_levels = first.startswith("model") and second.startswith("model")
        games = args.level_games if both_levels and args.level_games else args.games
        records = run_match(first, second, games, openings=args.openings, seed=args.seed,
                            max_plies=args.max_plies, movetime=args.movetime, workers=args.workers)
        rows.append(summarize(records, first, second))
        print(json.dumps(rows[-1]), file=sys.stderr)
    minutes = (time.monotonic() - start) / 60
    print(markdown(rows))
    level_games = f" ({args.level_games} between two levels)" if args.level_games else ""
    setup = f"{args.games} games a pairing{level_games}, {args.openings} random opening plies"
    print(f"\n{setup}, {minutes:.0f} min.")
    plot(rows, Path(args.png), f"Xiangqi-GPT playing levels {args.label}\n{setup}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
