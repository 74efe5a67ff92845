"""Opening explorer latency: a position's lookup in an index, and ``GET /api/explorer``.

The positions are those an explorer user meets: random walks from the start that follow the
index's own moves, each chosen in proportion to its games, to the index's depth (every position
of a walk is queried, so the sample holds the start and the main lines often, and rare
positions too), plus as many positions off the index (one random legal move away), which answer
from the primary key alone. Prints p50/p99/max in ms for ``Explorer.lookup`` (the index query:
wall clock and the thread's CPU time) and, unless ``--no-api``, for the endpoint without and with
the model's probabilities (one request at a time through FastAPI's TestClient, the shipped model on the CPU).

    .venv/bin/python bench/bench_explorer.py --queries 2000
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from data.explorer import Explorer
from xiangqi import Board


def sample_positions(explorer: Explorer, count: int, seed: int) -> list[Board]:
    """``count`` positions: walks along the index's moves, half of them then stepped off the index."""
    rng = random.Random(seed)
    plies = explorer.meta["plies"]
    boards: list[Board] = []
    while len(boards) < count:
        board = Board()
        for _ in range(plies):
            entry = explorer.lookup(board, examples=0)
            if not entry.moves:
                break
            boards.append(board.copy())
            move = rng.choices([m.move for m in entry.moves], [m.stats.games for m in entry.moves])[0]
            board.push_uci(move)
        off = board.copy()
        if off.legal_moves:
            off.push(rng.choice(off.legal_moves))
            boards.append(off)
    return boards[:count]


def percentiles(ms: list[float]) -> str:
    a = np.array(ms)
    return f"p50 {np.percentile(a, 50):.2f} ms, p99 {np.percentile(a, 99):.2f} ms, max {a.max():.2f} ms"


def time_calls(call, items, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock ms of each call (and, into ``cpu``, the calling thread's CPU ms: what the call
    itself cost, apart from waiting for a core on a busy machine)."""
    out = []
    for item in items:
        t0, c0 = time.perf_counter(), time.thread_time()
        call(item)
        out.append((time.perf_counter() - t0) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=None, help="index file or URL (default: the shipped index)")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-api", action="store_true", help="time the index lookup only")
    args = parser.parse_args()

    explorer = Explorer(args.index)
    boards = sample_positions(explorer, args.queries, args.seed)
    found = sum(explorer.lookup(b, examples=0).stats is not None for b in boards)
    print(f"index: {explorer.meta['positions']} positions, {explorer.meta['games']} games; "
          f"{len(boards)} queries, {found} in the index")
    time_calls(explorer.lookup, boards[:100])  # warm the page cache
    cpu: list[float] = []
    print(f"Explorer.lookup: {percentiles(time_calls(explorer.lookup, boards, cpu))}; "
          f"CPU time {percentiles(cpu)}")
    if args.no_api:
        return

    from fastapi.testclient import TestClient

    from server import create_app

    fens = [b.fen() for b in boards]
    with TestClient(create_app(db_url="sqlite:///:memory:", explorer=args.index)) as client:
        def get(params: dict) -> None:
            assert client.get("/api/explorer", params=params).status_code == 200

        for model in ("false", "true"):
            time_calls(get, [{"fen": f, "probabilities": model} for f in fens[:50]])
            ms = time_calls(get, [{"fen": f, "probabilities": model} for f in fens])
            print(f"GET /api/explorer (probabilities={model}): {percentiles(ms)}")


if __name__ == "__main__":
    main()
