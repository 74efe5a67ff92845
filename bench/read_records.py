"""Read every game record of files, folders and archives and print a Markdown table of what
became of them: accepted (with moves), without moves, and rejected by reason, per format (and
XQF version). The table of docs/formats.md came from

    .venv/bin/python bench/read_records.py ../shared/data/xqf-endgames.tar.gz
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import PurePath

from data.dataset import iter_sources
from xiangqi.pgn import PgnError
from xiangqi.records import read_any


def kind_of(name: str, data: bytes) -> str:
    """The format column: the suffix, with the version byte for XQF."""
    suffix = PurePath(name).suffix.lower() or "(none)"
    if data.startswith(b"XQ") and len(data) > 2:
        return f"{suffix} v{data[2]}"
    return suffix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", help="record files, folders or archives")
    args = parser.parse_args()
    table: dict[str, Counter] = {}
    outcomes: Counter = Counter()
    for name, data in iter_sources(args.sources):
        if isinstance(data, str):
            row, results = "(unreadable)", [data.split(":")[0]]
        else:
            row = kind_of(name, data)
            results = [g.kind if isinstance(g, PgnError) else "accepted" if g.moves else "no moves"
                       for g in read_any(name, data)]
        table.setdefault(row, Counter())["files"] += 1
        for r in results:
            table[row][r] += 1
            outcomes[r] += 1
    columns = ["accepted", "no moves"] + sorted(k for k in outcomes if k not in ("accepted",
                                                                                "no moves"))
    print("| format | files | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * (len(columns) + 1))
    for row in sorted(table):
        print(f"| {row} | {table[row]['files']} | "
              + " | ".join(str(table[row][c]) for c in columns) + " |")
    total = sum(t["files"] for t in table.values())
    print(f"| all | {total} | " + " | ".join(str(outcomes[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
