"""Batched inference: ways to answer many games' moves at once, timed on the shipped model.

Each of ``--games`` games (random legal moves, ``--plies`` long) has its KV cache warm; then every
game gets two more moves (a reply and the human's next move) and the policy scores all of them:
- ``one by one``: a forward pass per game on top of its KV cache (the server before batching);
- ``batched, KV caches``: one forward pass, each game's cache padded to the batch (what the server does);
- ``batched, recomputed``: one forward pass over each game's whole context window, no caches;
- ``batched, window 8``: one forward pass over each game's last 8 positions (the search's leaves).

    .venv/bin/python bench/bench_batching.py --games 16 32 --plies 40
"""

from __future__ import annotations

import argparse
import random
import time

from model.policy import Policy
from xiangqi import STARTING_FEN, Board


def random_game(rng: random.Random, plies: int) -> Board:
    board = Board(STARTING_FEN)
    while len(board.move_stack) < plies and board.outcome() is None:
        board.push(rng.choice(list(board.legal_moves)))
    return board


def advanced(boards: list[Board], rng: random.Random) -> list[Board]:
    """Each board two plies on (fewer when the game ends)."""
    out = []
    for board in boards:
        board = board.copy()
        for _ in range(2):
            if board.outcome() is None:
                board.push(rng.choice(list(board.legal_moves)))
        out.append(board)
    return out


def timed(policy: Policy, requests: list, one_by_one: bool = False) -> float:
    """Milliseconds to score ``requests`` in one pass, or one pass each."""
    start = time.perf_counter()
    for part in ([[r] for r in requests] if one_by_one else [requests]):
        policy._scores(part)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--games", type=int, nargs="+", default=[16, 32])
    p.add_argument("--plies", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    policy = Policy.load()
    rng = random.Random(args.seed)
    print("| games | one by one (ms) | batched, KV caches (ms) | batched, recomputed (ms) "
          "| batched, window 8 (ms) |")
    print("|---|---|---|---|---|")
    for n in args.games:
        games = [random_game(rng, args.plies) for _ in range(n)]
        times = []
        for batched in (False, True):
            policy.clear_cache()
            policy._scores([(b, None) for b in games])  # warm caches
            boards = advanced(games, rng)
            times.append(timed(policy, [(b, None) for b in boards], one_by_one=not batched))
        policy.clear_cache()
        times.append(timed(policy, [(b, None) for b in boards]))
        times.append(timed(policy, [(b, 8) for b in boards]))
        print(f"| {n} | " + " | ".join(f"{t:.0f}" for t in times) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
