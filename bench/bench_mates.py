"""Forced mates converted: composed problems from the XQF archive that Fairy-Stockfish solves as a
mate in at most M for the side to move, played out by a player against Fairy-Stockfish defending.

    .venv/bin/python bench/bench_mates.py [--archive TAR] [--positions N] [--max-mate M]
        [--player SPEC ...] [--depth D] [--defender-movetime MS]

The problems are read in a fixed shuffled order from ``xqf-endgames/残局攻杀谱`` of the archive
(``../shared/data/xqf-endgames.tar.gz``); a problem counts when Fairy-Stockfish at ``--depth``
reports ``score mate K`` with 1 <= K <= M for the side to move. Each player (arena specs, e.g.
``model:master`` and ``model:search?nodes=200``) then plays every problem from its position
against Fairy-Stockfish (``movetime`` per move) for at most 2M + 10 plies; a game converted is one
the player wins. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import tarfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from play.players import make_player  # noqa: E402
from xiangqi import Board, XiangqiError  # noqa: E402
from xiangqi.engine import EngineSpec, Limit, Mate, UciClient  # noqa: E402
from xiangqi.xqf import read_xqf  # noqa: E402

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "xqf-endgames.tar.gz"
FOLDER = "xqf-endgames/残局攻杀谱/"
FAIRY = "/usr/games/fairy-stockfish"


def problems(archive: Path, count: int, max_mate: int, depth: int) -> list[tuple[str, int]]:
    """(FEN, moves to mate) of the first ``count`` problems that are mates in at most ``max_mate``."""
    with tarfile.open(archive) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile() and m.name.startswith(FOLDER)),
                         key=lambda m: m.name)
        random.Random(0).shuffle(members)
        found = []
        with UciClient(EngineSpec.parse(FAIRY)) as engine:
            engine.new_game()
            for member in members:
                if len(found) == count:
                    break
                try:
                    board = Board(read_xqf(tar.extractfile(member).read()).fen, strict=False)
                except (XiangqiError, ValueError):
                    continue
                if board.outcome() is not None:
                    continue
                score, _ = engine.analyse(board, Limit(depth=depth))
                if isinstance(score, Mate) and 1 <= score.moves <= max_mate:
                    found.append((board.fen(), score.moves))
    return found


def converts(spec: str, fen: str, mate: int, defender_movetime: int) -> bool:
    """Whether the player of ``spec`` wins from ``fen`` against Fairy-Stockfish."""
    player = make_player(spec)
    defender = make_player(f"uci:{FAIRY}?movetime={defender_movetime}")
    try:
        player.new_game(0)
        defender.new_game(0)
        board = Board(fen, strict=False)
        us = board.turn
        for _ in range(2 * mate + 10):
            if board.outcome() is not None:
                break
            board.push((player if board.turn == us else defender).choose(board))
        outcome = board.outcome()
        return outcome is not None and outcome.winner == us
    finally:
        player.close()
        defender.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--positions", type=int, default=20)
    parser.add_argument("--max-mate", type=int, default=3)
    parser.add_argument("--depth", type=int, default=9, help="Fairy-Stockfish depth to find the mates")
    parser.add_argument("--defender-movetime", type=int, default=50)
    parser.add_argument("--player", action="append", default=None,
                        help="arena spec (repeatable; default: model:master and model:search?nodes=200)")
    args = parser.parse_args()
    players = args.player or ["model:master", "model:search?nodes=200"]
    found = problems(args.archive, args.positions, args.max_mate, args.depth)
    print(f"{len(found)} problems, mates in " + ", ".join(str(m) for _, m in found) + "\n")
    print("| player | converted | share |")
    print("|---|---:|---:|")
    for spec in players:
        won = sum(converts(spec, fen, mate, args.defender_movetime) for fen, mate in found)
        print(f"| {spec} | {won}/{len(found)} | {won / max(1, len(found)):.2f} |", flush=True)


if __name__ == "__main__":
    main()
