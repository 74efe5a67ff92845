"""The UCI protocol: :class:`UciSession` answers a GUI that speaks UCI to the model (``xqgpt uci``,
started by :mod:`play.protocols`).

Commands: ``uci``, ``isready``, ``ucinewgame``, ``setoption name Level value LEVEL``,
``setoption name MultiPV value N``, ``position startpos|fen FEN [moves ...]``, ``go ...``,
``stop``, ``quit``. Moves are ICCS (ranks 0-9); a ``position`` whose moves show ranks 1-10
(Fairy-Stockfish style) is read in that dialect, and the answers follow it.

At the search level (``expert``, :mod:`play.search`) ``go`` searches in a background thread
for ``movetime MS``, ``nodes N``, ``depth N`` (until the playouts' mean depth, the ``info depth``
it reports, reaches N: :attr:`~play.search.Limits.mean_depth`), the time of ``wtime btime winc
binc`` (a 30th of the clock plus most of the increment), until ``stop`` after ``infinite``, or
:data:`~play.levels.THINKING_MS` for a bare ``go``; it prints ``info depth … seldepth …
multipv … score cp|mate … wdl … nodes … nps … time … pv …`` about once a second and at the
end, then ``bestmove``. The other levels answer at once (after ``go infinite`` or ``go ponder``
the answer waits for ``stop``).

The search reads the value net of ``--value``, else the model's own (:func:`~play.search.value_net_for`;
an ``info string`` says when it is the shipped one instead).
"""

from __future__ import annotations

import random
import threading
from typing import TextIO

from xiangqi import STARTING_FEN, Board, XiangqiError
from xiangqi.engine import Dialect, dialect_of, move_to_text, parse_move_text
from xiangqi.limits import parse_int

from .levels import LEVELS, THINKING_MS, check_level, choose_move
from .search import Limits, Networks, Search, SearchResult, value_net_for

ENGINE_NAME = "Xiangqi-GPT"
MAX_MULTIPV = 10
GO_NUMBERS = ("movetime", "nodes", "depth", "wtime", "btime", "winc", "binc")
GO_NUMBER_MAX = 10 ** 12  # a go number past this (a clock of 30 years) is ignored


class UciSession:
    """The protocol state of one GUI: position, level, dialect and the model (loaded on first
    need), with the game's own search."""

    def __init__(self, model_dir: str | None, level: str, out: TextIO, value_dir: str | None = None) -> None:
        self.model_dir = model_dir
        self.value_dir = value_dir
        self.level = check_level(level)
        self.out = out
        self.board = Board()
        self.bad_position = False  # the last ``position`` could not be read: ``go`` plays no move
        self.dialect = Dialect.RANKS_0_9
        self.policy = None
        self.rng = random.Random(0)
        self.pending: str | None = None  # bestmove held back until ``stop``
        self.multipv = 1
        self.search: Search | None = None
        self.thread: threading.Thread | None = None
        self.infinite = False  # the running search waits for ``stop``
        self._send_lock = threading.Lock()

    def send(self, line: str) -> None:
        with self._send_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def info(self, text: str) -> None:
        self.send(f"info string {text}")

    def identify(self) -> None:
        """The ``id`` lines that open the answer to ``uci`` (and UCCI's ``ucci``)."""
        self.send(f"id name {ENGINE_NAME}")
        self.send("id author Xiangqi-GPT authors")

    def load(self) -> None:
        """Load the model if it is not loaded yet."""
        if self.policy is None:
            from model.policy import Policy

            self.policy = Policy.load(self.model_dir)

    def handle(self, line: str) -> bool:
        """Answer one command line; ``False`` after ``quit``."""
        cmd, rest = command_of(line)
        if not cmd:
            return True
        if cmd == "uci":
            self.identify()
            levels = " ".join(f"var {name}" for name in LEVELS)
            self.send(f"option name Level type combo default {self.level} {levels}")
            self.send(f"option name MultiPV type spin default 1 min 1 max {MAX_MULTIPV}")
            self.send("option name UCI_Variant type combo default xiangqi var xiangqi")
            self.send("uciok")
        elif cmd == "isready":
            self.load()
            self.send("readyok")
        elif cmd == "ucinewgame":
            self.wait()
            self.board, self.bad_position = Board(), False
            if self.search is not None:
                self.search.clear()
        elif cmd == "setoption":
            self.setoption(line)
        elif cmd == "position":
            self.wait()
            self.position(rest)
        elif cmd == "go":
            self.wait()
            self.go(rest)
        elif cmd == "stop" or cmd == "ponderhit":
            self.wait(stop=True)
            if self.pending is not None:
                self.send(self.pending)
                self.pending = None
        elif cmd == "quit":
            self.wait(stop=True)
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
        elif name.lower() == "multipv":
            if (multipv := parse_int(value, 1, MAX_MULTIPV)) is not None:
                self.multipv = multipv
            else:
                self.info(f"MultiPV must be 1..{MAX_MULTIPV}, not {value}")
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
            self.bad_position = True
            return
        self.board, self.bad_position = board, False

    def wait(self, stop: bool = False) -> None:
        """Let a running search finish (stop it when ``stop`` or when it is infinite); its
        ``bestmove`` is sent before this returns."""
        if self.thread is not None:
            assert self.search is not None
            if stop or self.infinite:
                self.search.stop.set()
            self.thread.join()
            self.thread = None

    def searcher(self) -> Search | None:
        """The search (model and value net loaded on first need), or ``None`` if the value net
        cannot be loaded (said in an ``info`` line)."""
        self.load()
        if self.search is None:
            try:
                value, note = value_net_for(self.model_dir, self.value_dir)
            except ValueError as e:  # ModelLoadError
                self.info(f"cannot search: {e}")
                return None
            if note:
                self.info(note)
            self.search = Search(Networks(self.policy, value))
        return self.search

    def go(self, words: list[str]) -> None:
        if self.bad_position:  # no move for the position before it
            self.info("no position: the last position command was bad")
            self.send("bestmove (none)")
            return
        if self.level in THINKING_MS and self.board.legal_moves:
            if self.searcher() is not None:
                limits = go_limits(words, self.board.turn, THINKING_MS[self.level])
                self.infinite = limits.infinite
                self.search.stop.clear()
                self.thread = threading.Thread(target=self.think, args=(self.board.copy(), limits))
                self.thread.start()
                return
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

    def think(self, board: Board, limits: Limits) -> None:
        """The search thread: ``info`` lines while it searches, then ``bestmove``."""
        assert self.search is not None
        result = self.search.run(board, limits, on_info=self.report, multipv=self.multipv)
        self.send(f"bestmove {move_to_text(result.best, self.dialect)}")

    def report(self, result: SearchResult) -> None:
        ms = max(1, round(result.seconds * 1000))
        for i, line in enumerate(result.lines, 1):
            wdl = " ".join(str(round(x * 1000)) for x in line.wdl)
            pv = " ".join(move_to_text(m, self.dialect) for m in line.pv)
            self.send(f"info depth {result.depth} seldepth {result.seldepth} multipv {i} score {line.score} "
                      f"wdl {wdl} nodes {result.nodes} nps {result.nps} time {ms} pv {pv}")


def command_of(line: str) -> tuple[str, list[str]]:
    """The command word of a protocol line and its arguments (``""`` for a blank line)."""
    words = line.split()
    return (words[0], words[1:]) if words else ("", [])


def go_limits(words: list[str], turn: bool, default_ms: int) -> Limits:
    """The budget of a ``go`` command (``turn``: True when Red is to move); ``default_ms`` for a
    ``go`` with none."""
    values: dict[str, int] = {}
    for key, value in zip(words, words[1:], strict=False):
        if key in GO_NUMBERS and (number := parse_int(value, -GO_NUMBER_MAX, GO_NUMBER_MAX)) is not None:
            values[key] = number
    if "infinite" in words or "ponder" in words:
        return Limits(infinite=True)
    clock = values.get("wtime" if turn else "btime")
    movetime = values.get("movetime")
    if clock is not None:
        inc = values.get("winc" if turn else "binc", 0)
        budget = min(clock / 30 + inc * 0.75, clock / 3)
        movetime = max(10, round(budget)) if movetime is None else min(movetime, max(10, round(budget)))
    limits = Limits(nodes=values.get("nodes"), mean_depth=values.get("depth"), movetime=movetime)
    if limits.nodes is None and limits.mean_depth is None and limits.movetime is None:
        limits.movetime = default_ms
    return limits
