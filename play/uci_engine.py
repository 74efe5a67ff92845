"""``xqgpt uci``: the model as a UCI engine on stdin/stdout.

Commands: ``uci``, ``isready``, ``ucinewgame``, ``setoption name Level value LEVEL``,
``position startpos|fen FEN [moves ...]``, ``go ...`` (answered at once with ``bestmove``; after
``go infinite`` or ``go ponder`` the answer waits for ``stop``), ``stop``, ``quit``. Moves are
ICCS (ranks 0-9); a ``position`` whose moves show ranks 1-10 (Fairy-Stockfish style) is read in
that dialect, and the answers follow it.
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import TextIO

from xiangqi import STARTING_FEN, Board, XiangqiError
from xiangqi.engine import Dialect, dialect_of, move_to_text, parse_move_text

from .levels import DEFAULT_LEVEL, LEVELS, check_level, choose_move

ENGINE_NAME = "Xiangqi-GPT"


class UciEngine:
    """The protocol state: position, level, dialect and the model (loaded on first need)."""

    def __init__(self, model_dir: str | None, level: str, out: TextIO) -> None:
        self.model_dir = model_dir
        self.level = check_level(level)
        self.out = out
        self.board = Board()
        self.dialect = Dialect.RANKS_0_9
        self.policy = None
        self.rng = random.Random(0)
        self.pending: str | None = None  # bestmove held back until ``stop``

    def send(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def info(self, text: str) -> None:
        self.send(f"info string {text}")

    def load(self) -> None:
        """Load the model if it is not loaded yet."""
        if self.policy is None:
            from model.policy import Policy

            self.policy = Policy.load(self.model_dir)

    def handle(self, line: str) -> bool:
        """Answer one command line; ``False`` after ``quit``."""
        words = line.split()
        if not words:
            return True
        cmd, rest = words[0], words[1:]
        if cmd == "uci":
            self.send(f"id name {ENGINE_NAME}")
            self.send("id author Xiangqi-GPT authors")
            levels = " ".join(f"var {name}" for name in LEVELS)
            self.send(f"option name Level type combo default {self.level} {levels}")
            self.send("option name UCI_Variant type combo default xiangqi var xiangqi")
            self.send("uciok")
        elif cmd == "isready":
            self.load()
            self.send("readyok")
        elif cmd == "ucinewgame":
            self.board = Board()
        elif cmd == "setoption":
            self.setoption(line)
        elif cmd == "position":
            self.position(rest)
        elif cmd == "go":
            self.go(rest)
        elif cmd == "stop" or cmd == "ponderhit":
            if self.pending is not None:
                self.send(self.pending)
                self.pending = None
        elif cmd == "quit":
            return False
        else:
            self.info(f"unknown command {cmd}")
        return True

    def setoption(self, line: str) -> None:
        name, _, value = line.partition(" name ")[2].partition(" value ")
        name, value = name.strip(), value.strip()
        if name.lower() == "level":
            if value in LEVELS:
                self.level = value
            else:
                self.info(f"unknown level {value}; levels: {' '.join(LEVELS)}")
        elif name.lower() == "uci_variant" and value != "xiangqi":
            self.info(f"only xiangqi is played, not {value}")

    def position(self, words: list[str]) -> None:
        if "moves" in words:
            split = words.index("moves")
            spec, moves = words[:split], words[split + 1:]
        else:
            spec, moves = words, []
        try:
            if spec[:1] == ["startpos"]:
                board = Board(STARTING_FEN)
            elif spec[:1] == ["fen"]:
                board = Board(" ".join(spec[1:]))
            else:
                raise ValueError("expected startpos or fen")
            found = dialect_of(moves)
            if found is not None:
                self.dialect = found
            for text in moves:
                board.push(parse_move_text(text, self.dialect))
        except (ValueError, XiangqiError) as e:
            self.info(f"bad position: {e}")
            return
        self.board = board

    def go(self, words: list[str]) -> None:
        if not self.board.legal_moves:
            answer = "bestmove (none)"
        else:
            self.load()
            move = choose_move(self.policy, self.board, self.level, self.rng)
            text = move_to_text(move, self.dialect)
            self.send(f"info depth 1 pv {text}")
            answer = f"bestmove {text}"
        if "infinite" in words or "ponder" in words:
            self.pending = answer
        else:
            self.send(answer)


def run(model_dir: str | None, level: str, stdin: TextIO, stdout: TextIO) -> int:
    """Serve UCI commands from ``stdin`` until ``quit`` or end of input."""
    engine = UciEngine(model_dir, level, stdout)
    for line in stdin:
        if not engine.handle(line.strip()):
            break
    return 0


def main(args: argparse.Namespace) -> int:
    """Entry point of ``xqgpt uci``."""
    return run(args.model, args.level or DEFAULT_LEVEL, sys.stdin, sys.stdout)

