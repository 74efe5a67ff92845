"""Expert searches of several games one after another, then side by side in threads (one
:class:`~play.search.Search` per game over shared :class:`~play.search.Networks`, leaf evaluations
batched across them): the wall time of each search and its playouts.

    .venv/bin/python bench/bench_side_by_side.py [--games 4] [--movetime 1000]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from model.policy import Policy  # noqa: E402
from play.search import Limits, Networks, Search, value_net_for  # noqa: E402
from xiangqi import Board  # noqa: E402

FIRST_MOVES = ("h2e2", "b2e2", "h0g2", "c3c4", "g3g4", "b0c2", "c0e2", "h2d2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=4, choices=range(1, len(FIRST_MOVES) + 1))
    parser.add_argument("--movetime", type=int, default=1000, help="ms a search (default: 1000)")
    args = parser.parse_args()
    policy = Policy.load()
    policy.batch_calls()
    networks = Networks(policy, value_net_for(None)[0], batch_values=True)
    boards = []
    for first in FIRST_MOVES[:args.games]:
        board = Board()
        board.push_uci(first)
        policy.candidates(board)  # the root's priors: in play the game's KV cache has them
        boards.append(board)
    timings: list[tuple[float, int]] = [(0.0, 0)] * len(boards)

    def search(i: int) -> None:
        start = time.perf_counter()
        result = Search(networks).run(boards[i], Limits(movetime=args.movetime))
        timings[i] = (time.perf_counter() - start, result.nodes)

    for mode in ("one after another", "side by side"):
        start = time.perf_counter()
        if mode == "side by side":
            threads = [threading.Thread(target=search, args=(i,)) for i in range(len(boards))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            for i in range(len(boards)):
                search(i)
        each = ", ".join(f"{s:.1f} s / {n}" for s, n in timings)
        print(f"| {mode} | {time.perf_counter() - start:.1f} | {each} |")


if __name__ == "__main__":
    main()
