"""Moves into a mate by checks: how often the ``model:...`` side of arena games played a move after
which the opponent had a forced mate by checks (play.mates) while another move had none.

    .venv/bin/python bench/mate_escapes.py GAMES.pgn [GAMES.pgn ...] [--mate-moves 5] [--nodes 5000]

For every position of the model's side from ply 8 on, :func:`play.mates.moves_allowing_mate`
checks each legal move (``--mate-moves`` moves, ``--nodes`` positions a position, as the search
does). Prints a Markdown table: positions, moves into such a mate with an escape left, and of
those how many had only escapes that the root's material checks reject (the 2-ply check and the
2-ply material search, margin 2 soldiers; checks kept).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from play.material import unsafe_moves
from play.mates import moves_allowing_mate
from play.tactics import tactically_unsafe
from xiangqi import Board
from xiangqi.pgn import read_pgn_file


def model_positions(path: Path) -> list[tuple[Board, object]]:
    """(position, move played) for the ``model:...`` side of each game, from ply 8 on."""
    found = []
    for game in read_pgn_file(str(path)):
        ours = game.headers.get("Red", "").startswith("model")
        board = game.board()
        for ply, move in enumerate(game.moves):
            if ply >= 8 and board.turn == ours:
                found.append((board.copy(), move))
            board.push(move)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pgn", type=Path, nargs="+")
    parser.add_argument("--mate-moves", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=5_000)
    args = parser.parse_args()
    print("| games | positions | moves into a mate by checks, an escape left | only escapes lose material |")
    print("|---|---:|---:|---:|")
    for path in args.pgn:
        positions = model_positions(path)
        into, material_only = 0, 0
        for board, played in tqdm(positions, desc=path.name, leave=False):
            moves = board.legal_moves
            allowing = moves_allowing_mate(board, moves, args.mate_moves, args.nodes)
            if played not in allowing or len(allowing) == len(moves):
                continue
            into += 1
            unsafe = unsafe_moves(board, 2.0) | tactically_unsafe(board, 2, 2.0, 20_000)
            escapes = [m for m in moves if m not in allowing]
            material_only += all(m in unsafe and not board.gives_check(m) for m in escapes)
        print(f"| {path.name} | {len(positions)} | {into} | {material_only} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
