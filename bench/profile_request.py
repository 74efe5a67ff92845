"""Where one ``POST /api/games/{id}/moves`` spends its time outside HTTP: the route handler is
called in-process (a throwaway SQLite file, the shipped model) while a seeded random player plays
legal moves (or, with ``--human casual``, the casual level's moves, for longer games) against
``--level``; games that end are replaced by new ones.

Each request's time is split into model (the policy's forward passes), safe_move (the master
level's 2-ply check), replay (the stored moves onto a board), game_state (the answer) and db
(reading and writing the row); the rest (parsing the move, outcome checks, the reply's candidates
and notation) is "other".
The same games are played ``--repeat`` times and each part's fastest is shown (other processes
only ever add time). ``--profile`` then plays them once more under cProfile and prints its top
functions (cProfile slows pure Python down, so the table is measured without it).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/profile_request.py --moves 50
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch

import play.levels
import server.play
import server.routes.games as games
from model.policy import Policy
from play.levels import choose_move
from server.db import GameStore, new_secret
from server.play import GameCache
from server.schemas import NewGameRequest
from server.serving import ServedModel
from xiangqi.pgn import replay

PARTS = ("model", "safe_move", "replay", "game_state", "db")


class Timer:
    """Seconds spent in the wrapped functions, by part."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, part: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - t
        return timed


def play_games(args: argparse.Namespace, policy: Policy, timer: Timer,
               profiler: cProfile.Profile | None) -> tuple[dict[str, float], int, float]:
    """Time ``args.moves`` move requests; returns ms per request of each part (and "total"), the
    games played and the mean plies before a move."""
    model, cache = ServedModel(policy, "shipped"), GameCache()
    policy.clear_cache()
    timer.seconds.clear()
    with tempfile.TemporaryDirectory() as tmp:
        store = GameStore(f"sqlite:///{Path(tmp) / 'games.db'}")
        store.get = timer.wrap("db", store.get)
        store.update = timer.wrap("db", store.update)  # includes game_state, subtracted below
        human, rng = random.Random(args.seed), random.Random(args.seed + 1)
        game, started = None, 0
        total, plies = 0.0, 0
        for _ in range(args.moves):
            saved = dict(timer.seconds)  # new games and the human's moves are not timed
            if game is None or game.status == "finished":
                game = games._new_game(store, cache, model, rng, NewGameRequest(level=args.level), args.level,
                                       new_secret())
                started += 1
            if args.human == "random":
                move = human.choice(game.legal_moves)
            else:
                board = replay(game.start_fen, [m.iccs for m in game.moves])
                move = choose_move(policy, board, "casual", human).uci()
            timer.seconds = defaultdict(float, saved)
            plies += len(game.moves)
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            game = games._play_move(store, cache, model, rng, store.get(game.id), move).game
            if profiler:
                profiler.disable()
            total += time.perf_counter() - t
        store.close()
    parts = {p: timer.seconds.get(p, 0.0) for p in PARTS}
    parts["db"] -= parts["game_state"]
    parts["other"] = total - sum(parts.values())
    parts["total"] = total
    return {p: 1000 * s / args.moves for p, s in parts.items()}, started, plies / args.moves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=50, help="move requests to time (default 50)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="play the same games this many times and report each part's fastest (default 3)")
    ap.add_argument("--level", default="master")
    ap.add_argument("--human", choices=("random", "casual"), default="random",
                    help="the human's moves: random legal moves (short games) or the casual level "
                         "(long games; its model calls are not timed)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--profile", action="store_true", help="also print cProfile's top 30 functions")
    ap.add_argument("--sort", default="cumulative", help="cProfile order (default cumulative)")
    ap.add_argument("--filter", default="", help="only functions whose file matches this regex")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    timer = Timer()
    policy = Policy.load()
    policy._score = timer.wrap("model", policy._score)
    play.levels.safe_move = timer.wrap("safe_move", play.levels.safe_move)
    server.play.replayed = timer.wrap("replay", server.play.replayed)
    server.play.game_state = timer.wrap("game_state", server.play.game_state)
    runs = [play_games(args, policy, timer, None) for _ in range(args.repeat)]
    best = {p: min(r[0][p] for r in runs) for p in runs[0][0]}
    _, started, plies = runs[0]
    print(f"{args.moves} move requests at level {args.level} in {started} games, {plies:.0f} plies on "
          f"average before the move; fastest of {args.repeat} runs\n")
    print("| part | ms / request |\n|---|---:|")
    for part in (*PARTS, "other"):
        print(f"| {part} | {best[part]:.2f} |")
    print(f"| **total** | **{best['total']:.2f}** |")
    if args.profile:
        profiler = cProfile.Profile()
        play_games(args, policy, timer, profiler)
        print()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.filter, 30)


if __name__ == "__main__":
    main()
