"""Held-out games none of whose copies were in the old training split.

Builds up to commit 05b7454 merged only identical move sequences and split each by its own key,
so a truncated copy of a held-out game could sit in training; the shipped model was trained on
such a split. This script reads the sources as ``xqgpt data build`` does, takes the held-out
games of the current build (the longest copy of each game) and writes those none of whose
copies the old build put in ``train`` to ``OUT/{val,test}_clean.pgn`` (with several sources, the
first is the one the old build read; the others' games were in none of its splits); the last line of stdout
is the counts as JSON, with how many old held-out games shared their first 30 plies (all, when
shorter) with an old training game::

    python scripts/clean_heldout.py ../shared/data/ccpd-dataset.tar.gz --out /tmp/clean
    xqgpt eval --pgn /tmp/clean/test_clean.pgn --json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from data.dataset import IDENTITY_PLIES, ParsedGame, scan, split_of
from xiangqi.pgn import write_game


def start(game: ParsedGame) -> str:
    """The start position: board and side to move."""
    return " ".join(game.fen.split()[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("src", nargs="+", help="PGN files, folders or archives, as for the build")
    parser.add_argument("--out", required=True, help="folder for val_clean.pgn and test_clean.pgn")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    games: list[ParsedGame] = []
    _, groups = scan(args.src, args.workers, games.append)
    # The split of every distinct move sequence of the first source (CCPD, which the old build
    # read), as before; other sources' games were in no old split.
    old = [split_of(g.key) if g.source.startswith(args.src[0]) else None for g in games]
    old_train_heads = {(start(g), g.moves[:2 * n]) for i, g in enumerate(games) if old[i] == "train"
                       for n in range(1, min(IDENTITY_PLIES, len(g.moves) // 2) + 1)}
    report = {}
    for split in ("val", "test"):
        held_out = [g for i, g in enumerate(games) if old[i] == split]
        shared = [g for g in held_out if (start(g), g.moves[:2 * IDENTITY_PLIES]) in old_train_heads]
        kept = [group for group in groups if split_of(games[group[0]].key) == split]
        clean = [games[group[0]] for group in kept if all(old[i] != "train" for i in group)]
        report[split] = {
            "old_games": len(held_out), "old_plies": sum(len(g.moves) // 2 for g in held_out),
            "old_sharing_30_plies_with_old_train": len(shared),
            "old_plies_sharing": sum(len(g.moves) // 2 for g in shared),
            "games": len(kept), "plies": sum(len(games[group[0]].moves) // 2 for group in kept),
            "clean_games": len(clean), "clean_plies": sum(len(g.moves) // 2 for g in clean)}
        out = Path(args.out) / f"{split}_clean.pgn"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(write_game(g.game(), "iccs") for g in clean), encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
