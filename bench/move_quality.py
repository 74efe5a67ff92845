"""Move quality: how much a player's moves lose, judged by Fairy-Stockfish, on positions from engine matches.

    .venv/bin/python bench/move_quality.py [--pgn bench/engine_games.pgn] [--positions N]
        [--depth D] [--player SPEC ...] [--cache FILE] [--plot bench/move_quality.png]

A strength proxy that needs far fewer CPU-seconds than a match: one move per position instead of
whole games, every move judged. The positions are those of the ``--pgn`` games (our search against
Fairy-Stockfish: lopsided, tactical, what the search meets in play) at ply 8 or later with the
``model:...`` side to move, shuffled with seed 0, the first ``--positions``; each keeps its game's
history. For each player (arena specs) the loss of its move is Fairy-Stockfish's score of the
position (depth ``--depth``, side to move) minus its score after the move, both clipped to
±1500 cp, floored at 0. Prints a Markdown table (mean loss, median, moves losing over 100 and over
300 cp, seconds a move) and plots the share of moves losing at most x cp. Engine scores are cached
in ``--cache`` (default ``runs/move_quality_scores.json``) across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from play.players import make_player  # noqa: E402
from xiangqi import Board  # noqa: E402
from xiangqi.engine import EngineSpec, Limit, UciClient  # noqa: E402
from xiangqi.pgn import read_pgn_file  # noqa: E402

HERE = Path(__file__).resolve().parent
FAIRY = "/usr/games/fairy-stockfish"
CLIP = 1500  # centipawns: beyond this a position is won or lost, and its exact score does not matter
MATE_CP = 3000


def positions(pgns: list[Path], count: int) -> list[Board]:
    """The positions of the games where the ``model:...`` side is to move, from ply 8 on."""
    found = []
    for path in pgns:
        for game in read_pgn_file(str(path)):
            ours = game.headers.get("Red", "").startswith("model")
            board = game.board()
            for ply, move in enumerate(game.moves):
                if ply >= 8 and board.turn == ours:
                    found.append(board.copy())
                board.push(move)
    random.Random(0).shuffle(found)
    return found[:count]


class Judge:
    """Fairy-Stockfish's score (centipawns for the side to move) of positions, cached by FEN."""

    def __init__(self, depth: int, cache: Path) -> None:
        self.depth, self.cache = depth, cache
        self.scores: dict[str, float] = {}
        if cache.is_file() and json.loads(cache.read_text()).get("depth") == depth:
            self.scores = json.loads(cache.read_text())["scores"]
        self.engine = UciClient(EngineSpec.parse(FAIRY))
        self.engine.start()

    def score(self, board: Board) -> float:
        fen = board.fen()
        if fen not in self.scores:
            outcome = board.outcome()
            if outcome is not None:
                cp = 0 if outcome.winner is None else MATE_CP if outcome.winner == board.turn else -MATE_CP
            else:
                score, _ = self.engine.analyse(board, Limit(depth=self.depth))
                cp = score.score(MATE_CP)
            self.scores[fen] = float(cp)
        return self.scores[fen]

    def loss(self, board: Board, move) -> float:
        before = min(self.score(board), CLIP)
        after = board.copy()
        after.push(move)
        return max(0.0, before - max(-self.score(after), -CLIP))

    def save(self) -> None:
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        self.cache.write_text(json.dumps({"depth": self.depth, "scores": self.scores}))

    def close(self) -> None:
        self.engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pgn", type=Path, action="append", help="games (default: bench/engine_games.pgn)")
    parser.add_argument("--positions", type=int, default=300)
    parser.add_argument("--depth", type=int, default=9)
    parser.add_argument("--player", action="append",
                        help="arena spec (default: model:master and model:search?nodes=400)")
    parser.add_argument("--cache", type=Path, default=HERE.parent / "runs" / "move_quality_scores.json")
    parser.add_argument("--plot", type=Path, default=HERE / "move_quality.png")
    args = parser.parse_args()
    boards = positions(args.pgn or [HERE / "engine_games.pgn"], args.positions)
    specs = args.player or ["model:master", "model:search?nodes=400"]
    judge = Judge(args.depth, args.cache)
    losses: dict[str, np.ndarray] = {}
    print(f"{len(boards)} positions, Fairy-Stockfish depth {args.depth}\n")
    print("| player | mean loss (cp) | median | > 100 cp | > 300 cp | s a move |")
    print("|---|---:|---:|---:|---:|---:|")
    try:
        for spec in specs:
            player = make_player(spec)
            seconds, out = 0.0, []
            for board in tqdm(boards, desc=spec, leave=False):
                player.new_game(0)  # no tree or state carried from another position
                started = time.perf_counter()
                move = player.choose(board.copy())
                seconds += time.perf_counter() - started
                out.append(judge.loss(board, move))
            player.close()
            judge.save()
            loss = losses[spec] = np.array(out)
            print(f"| {spec} | {loss.mean():.0f} | {np.median(loss):.0f} | {int((loss > 100).sum())} | "
                  f"{int((loss > 300).sum())} | {seconds / len(boards):.2f} |", flush=True)
    finally:
        judge.close()
    plot(losses, args.plot)
    return 0


def plot(losses: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = np.arange(0, CLIP + 1, 10)
    for spec, loss in losses.items():
        ax.plot(xs, [(loss <= x).mean() for x in xs], label=spec)
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlabel("loss of the move (cp, Fairy-Stockfish)")
    ax.set_ylabel("share of moves losing at most x")
    ax.set_title(f"Move quality on {len(next(iter(losses.values())))} positions from engine matches")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
