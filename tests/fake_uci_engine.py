"""A tiny UCI xiangqi engine for tests: plays the first legal move (or a capture when it can).

Options: ``--ranks10`` speaks the ranks 1-10 dialect (Fairy-Stockfish style), ``--name NAME`` sets
its ``id name``, ``--illegal`` answers with a move that is never legal, ``--silent`` never answers
``go``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xiangqi import STARTING_FEN, Board  # noqa: E402
from xiangqi.engine import Dialect, move_to_text, parse_move_text  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks10", action="store_true")
    parser.add_argument("--name", default="FakeEngine 1.0")
    parser.add_argument("--illegal", action="store_true")
    parser.add_argument("--silent", action="store_true")
    args = parser.parse_args()
    dialect = Dialect.RANKS_1_10 if args.ranks10 else Dialect.RANKS_0_9
    board = Board()

    def send(line: str) -> None:
        print(line, flush=True)

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "uci":
            send(f"id name {args.name}")
            send("option name Hash type spin default 16 min 1 max 1024")
            send("uciok")
        elif words[0] == "isready":
            send("readyok")
        elif words[0] == "position":
            moves = words[words.index("moves") + 1:] if "moves" in words else []
            spec = words[1:words.index("moves")] if "moves" in words else words[1:]
            board = Board(STARTING_FEN if spec[0] == "startpos" else " ".join(spec[1:]))
            for text in moves:
                board.push(parse_move_text(text, dialect))
        elif words[0] == "go" and not args.silent:
            moves = board.legal_moves
            captures = [m for m in moves if board.is_capture(m)]
            move = (captures or moves)[0]
            text = "a0a0" if args.illegal else move_to_text(move, dialect)
            send(f"info depth 1 score cp 0 pv {text}")
            send(f"bestmove {text}")
        elif words[0] == "quit":
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
