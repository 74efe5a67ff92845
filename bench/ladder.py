"""Elo ladder: ratings of the playing levels from arena matches, anchored on Fairy-Stockfish's
``UCI_Elo`` (the fit: :mod:`play.ratings`).

    .venv/bin/python bench/ladder.py MATCH.json ... [--out play/ratings.json] [--png bench/ladder.png]

Each MATCH.json holds the summary line of ``xqgpt arena --json``. Prints a Markdown table, writes
the levels' ratings to ``--out`` (what ``/api/levels`` and the level picker show) and a PNG.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from play.ratings import RATINGS_FILE, Match, fit, level_of, read_matches  # noqa: E402


def markdown(ratings: dict[str, tuple[float, float]], matches: list[Match]) -> str:
    lines = ["| player | games | rating | 95% |", "|---|---:|---:|---|"]
    for p, (r, half) in sorted(ratings.items(), key=lambda kv: -kv[1][0]):
        n = sum(m.games for m in matches if p in (m.first, m.second))
        interval = "anchor" if half == 0 else f"{r - half:.0f} – {r + half:.0f}"
        lines.append(f"| {_short(p)} | {n} | {r:.0f} | {interval} |")
    return "\n".join(lines)


def _short(spec: str) -> str:
    if spec.startswith("uci:"):
        command, sep, options = spec[4:].partition("?")
        return "Fairy-Stockfish " + options.replace("&", ", ")
    return spec


def plot(ratings: dict[str, tuple[float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(ratings.items(), key=lambda kv: kv[1][0])
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.5))
    y = range(len(rows))
    colors = ["tab:blue" if level_of(p) else "tab:gray" for p, _ in rows]
    ax.barh(y, [r for _, (r, _) in rows], xerr=[h for _, (_, h) in rows], color=colors, capsize=3)
    ax.set_yticks(list(y), [_short(p) for p, _ in rows], fontsize=8)
    ax.set_xlim(left=min(r - h for _, (r, h) in rows) - 100)
    ax.set_xlabel("rating on Fairy-Stockfish's UCI_Elo scale (95% interval); blue: our levels")
    ax.set_title("Elo ladder of the playing levels", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("matches", nargs="+", type=Path, help="files of `xqgpt arena --json` summaries")
    parser.add_argument("--out", type=Path, default=RATINGS_FILE)
    parser.add_argument("--png", type=Path, default=ROOT / "bench" / "ladder.png")
    args = parser.parse_args(argv)
    matches = read_matches(args.matches)
    ratings = fit(matches)
    print(markdown(ratings, matches))
    levels = {}
    for p, (r, half) in ratings.items():
        if (level := level_of(p)) is not None:
            games = sum(m.games for m in matches if p in (m.first, m.second))
            levels[level] = {"elo": round(r), "low": round(r - half), "high": round(r + half), "games": games}
    args.out.write_text(json.dumps({
        "scale": "Fairy-Stockfish UCI_Elo (Debian's fairy-stockfish, xiangqi, movetime 50 ms)",
        "command": "bench/ladder.py bench/ladder_matches.jsonl",
        "levels": levels}, indent=2) + "\n", encoding="utf-8")
    plot(ratings, args.png)
    print(f"\nwrote {args.out} and {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
