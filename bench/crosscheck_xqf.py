"""Cross-check the XQF reader against the PyPI package cchess (GPL, used here only as a reference
to compare with, never imported by the project): for every .xqf file of the sources, whether
both give the same start board and main line. Needs the bench extra (``pip install -e .[bench]``):

    .venv/bin/python bench/crosscheck_xqf.py ../shared/data/xqf-endgames.tar.gz
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter

import cchess

from data.dataset import iter_sources
from xiangqi.pgn import PgnError
from xiangqi.xqf import read_xqf


def cchess_reading(data: bytes, path: str) -> tuple[str, list[str]]:
    """(board FEN, main line in ICCS) as cchess reads the file's bytes."""
    with open(path, "wb") as f:
        f.write(data)
    game = cchess.read_from_xqf(path)
    lines = game.dump_iccs_moves()
    return game.init_board.to_fen().split()[0], list(lines[0]) if lines else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", help="XQF files, folders or archives")
    args = parser.parse_args()
    outcomes: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "game.xqf")
        for name, data in iter_sources(args.sources):
            if isinstance(data, str) or not name.lower().endswith(".xqf"):
                continue
            theirs = cchess_reading(data, path)
            try:
                game = read_xqf(data, source=name)
            except PgnError as e:
                outcome = f"we reject ({e.kind}), cchess reads {len(theirs[1])} moves"
                print(f"{name}: {e.reason}")
            else:
                ours = (game.fen.split()[0], [m.uci() for m in game.moves])
                outcome = "same board and main line" if ours == theirs else "different"
                if ours != theirs:
                    print(f"{name}: ours {ours}, cchess {theirs}")
            outcomes[outcome] += 1
    for outcome, n in outcomes.most_common():
        print(f"{n:6d}  {outcome}")


if __name__ == "__main__":
    main()
