"""Search speed on the CPU: playouts per second with leaves evaluated in batches of 16 against
batches of 1 (the peer, in the same run), from the same positions.

    .venv/bin/python bench/bench_search.py [--model DIR] [--value DIR] [--nodes N] [--positions N]

The positions are the start position and positions at ply 30 and 60 of the fixture games (with
their history). Each search starts from an empty tree with a budget of ``--nodes`` playouts
(the policy's KV cache already holds the game, as in play); the tree search is :mod:`play.search`
over the shipped policy and value net. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from model.policy import Policy  # noqa: E402
from model.value import load_value  # noqa: E402
from play.search import Limits, Networks, Search, SearchConfig  # noqa: E402
from xiangqi import Board  # noqa: E402
from xiangqi.pgn import read_pgn_file  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "data" / "fixtures"
FIXTURE = FIXTURES / "wxf15_bulk_games_uci.pgn"


def positions(count: int) -> list[Board]:
    """The start position, then boards at ply 30 and 60 of the fixture games."""
    boards = [Board()]
    for game in read_pgn_file(str(FIXTURE)):
        for ply in (30, 60):
            if len(boards) < count and len(game.moves) > ply:
                board = game.board()
                for move in game.moves[:ply]:
                    board.push(move)
                boards.append(board)
    return boards[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--value", default=None, help="value-net directory (default: the shipped one)")
    parser.add_argument("--nodes", type=int, default=64, help="playouts per search (default: 64)")
    parser.add_argument("--positions", type=int, default=3, help="positions searched (default: 3)")
    args = parser.parse_args()
    policy = Policy.load(args.model)
    networks = Networks(policy, load_value(args.value))
    boards = positions(args.positions)
    print(f"{len(boards)} positions, {args.nodes} playouts each, {os.cpu_count()} CPUs\n")
    print("| leaves per batch | playouts/s (median) | s per search (median) |")
    print("|---|---|---|")
    for batch in (16, 1):
        rates, seconds = [], []
        for board in boards:
            search = Search(networks, SearchConfig(batch=batch))
            policy.candidates(board)  # the root's priors: in play the KV cache of the game has them
            start = time.perf_counter()
            result = search.run(board, Limits(nodes=args.nodes))
            elapsed = time.perf_counter() - start
            rates.append(result.nodes / elapsed)
            seconds.append(elapsed)
        print(f"| {batch} | {statistics.median(rates):.1f} | {statistics.median(seconds):.2f} |")


if __name__ == "__main__":
    main()
