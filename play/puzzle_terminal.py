"""``xqgpt puzzle``: solve puzzles in a terminal.

A puzzle near the player's rating is shown; the player types the solver's moves in any notation
(ICCS, WXF, Chinese), the defender answers with the verified line. A move off the line ends
the attempt: failed, with the defender's answer from the model's search
(:data:`~play.levels.PUZZLE_DEFENDER_LEVEL`) and the solution, unless it mates at once (solved).
The player's and the puzzles' Glicko-2 ratings are kept in a JSON file
(``$XDG_DATA_HOME/xqgpt/puzzles.json`` by default), apart from the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from data.puzzles import Puzzle, Rating, load_puzzles, play_attempt, rate_attempt
from xiangqi import Board, Move, XiangqiError
from xiangqi.notation import parse_move, render_move

from .board_text import render_board
from .levels import PUZZLE_DEFENDER_LEVEL
from .players import ModelPlayer

CHOICES = 8


def written_line(puzzle: Puzzle) -> str:
    """The puzzle's line in WXF."""
    board, words = Board(puzzle.fen), []
    for uci in puzzle.moves:
        move = Move.from_uci(uci)
        words.append(render_move(board, move, "wxf"))
        board.push(move)
    return " ".join(words)


def search_defender(model_dir: str | None) -> Callable[[Board], Move]:
    """The defender's answer off the line: the model at :data:`~play.levels.PUZZLE_DEFENDER_LEVEL`,
    loaded on its first answer (a player who stays on the line never waits for it)."""
    players: list[ModelPlayer] = []

    def answer(board: Board) -> Move:
        if not players:
            players.append(ModelPlayer(PUZZLE_DEFENDER_LEVEL, model_dir))
        return players[0].choose(board)

    return answer


def ratings_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "xqgpt" / "puzzles.json"


class PuzzleSession:
    """Puzzles one after another, with the ratings of a JSON file."""

    def __init__(self, puzzles: tuple[Puzzle, ...], path: Path, out: TextIO, *, chinese: bool,
                 rng: random.Random, defender: Callable[[Board], Move]) -> None:
        self.puzzles, self.path, self.out, self.chinese, self.rng = puzzles, path, out, chinese, rng
        self.defender = defender
        saved = json.loads(path.read_text()) if path.is_file() else {}
        self.player = Rating(*saved.get("player", [1500.0, 350.0, 0.06]))
        self.rated = {k: Rating(*v) for k, v in saved.get("puzzles", {}).items()}
        self.seen: set[str] = set(saved.get("seen", []))

    def rating_of(self, puzzle: Puzzle) -> Rating:
        return self.rated.get(puzzle.id, Rating(puzzle.start_rating, 250.0))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"player": list(vars(self.player).values()), "seen": sorted(self.seen),
                "puzzles": {k: list(vars(r).values()) for k, r in self.rated.items()}}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)

    def next_puzzle(self) -> Puzzle:
        pool = [p for p in self.puzzles if p.id not in self.seen] or list(self.puzzles)
        pool.sort(key=lambda p: (abs(self.rating_of(p).rating - self.player.rating), p.id))
        return self.rng.choice(pool[:CHOICES])

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def play(self, puzzle: Puzzle, read: Callable[[str], str]) -> bool | None:
        """One puzzle: True solved, False failed, None when the player left before the end."""
        board = Board(puzzle.fen)
        side = "Red" if board.turn else "Black"
        rating = round(self.rating_of(puzzle).rating)
        themes = ", ".join(puzzle.themes)
        self.say(f"\nPuzzle {puzzle.id} ({themes}; rated {rating}): {side} to move and win.")
        played: list[str] = []
        while True:
            self.say(render_board(board, chinese=self.chinese))
            try:
                text = read("your move> ").strip()
            except EOFError:
                return None
            if text in ("quit", "exit"):
                return None
            try:
                move = parse_move(board, text)
            except XiangqiError as e:
                self.say(f"not a move here: {e}")
                continue
            written = render_move(board, move, "wxf")
            on_line = move.uci() == puzzle.moves[2 * len(played)]
            played.append(move.uci())
            verdict, after = play_attempt(puzzle, played)
            if not on_line:  # solved when it mates at once, else failed: the defender answers it
                self.say(f"{written} mates as well." if verdict else f"Wrong: {written} is not it. "
                         f"The defender answers {render_move(after, self.defender(after), 'wxf')}.")
                return verdict
            board.push(move)
            if verdict:
                return True
            reply = Move.from_uci(puzzle.moves[2 * len(played) - 1])
            self.say(f"Right. The defender plays {render_move(board, reply, 'wxf')}.")
            board.push(reply)

    def run(self, read: Callable[[str], str]) -> int:
        self.say(f"Your puzzle rating: {round(self.player.rating)} (± {round(2 * self.player.rd)}). "
                 "Type moves in any notation; 'quit' leaves.")
        while True:
            puzzle = self.next_puzzle()
            verdict = self.play(puzzle, read)
            if verdict is None:
                return 0
            first = puzzle.id not in self.seen
            self.seen.add(puzzle.id)
            if first:
                rated = rate_attempt(self.player, self.rating_of(puzzle), verdict)
                self.player, self.rated[puzzle.id] = rated
            self.save()
            note = "" if first else " (tried before: unrated)"
            self.say(("Solved!" if verdict else "Failed.") + f" The line: {written_line(puzzle)}. "
                     f"Your rating: {round(self.player.rating)}{note}")


def main(args: argparse.Namespace) -> int:
    """Entry point of ``xqgpt puzzle``."""
    path = Path(args.ratings) if args.ratings else ratings_path()
    session = PuzzleSession(load_puzzles(args.puzzles), path, sys.stdout, chinese=args.chinese,
                            rng=random.Random(args.seed), defender=search_defender(args.model))
    return session.run(input)
