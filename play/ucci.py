"""UCCI, the Universal Chinese Chess Interface, for ``xqgpt uci`` when the GUI opens with ``ucci``
(:mod:`play.protocols` picks it).

UCCI 3.0 (https://www.xqbase.com/protocol/cchess_ucci.htm) is UCI adapted by the makers of
ElephantEye and spoken by many Chinese GUIs. :class:`UcciSession` answers:

- ``ucci``: ``id`` lines, the options ``usemillisec``, ``level`` and ``newgame``, then ``ucciok``;
- ``setoption NAME [VALUE]``: ``usemillisec true|false`` (``go`` times in milliseconds, else
  seconds), ``level LEVEL``, ``newgame``; other names are accepted and ignored, as UCCI asks;
- ``position {fen FEN | startpos} [moves ...]`` in ICCS moves (``h2e2``), and ``banmoves ...``:
  moves the engine must not play in that position (until the next ``position``);
- ``go [ponder | draw] depth N | depth infinite | nodes N | time T [movestogo N | increment I]
  [opptime T [oppmovestogo N | oppincrement I]]``: the time gets a ``movestogo`` share of the
  clock (else a 30th) plus 3/4 of the increment, at most 90% of the clock; ``ponder`` and
  ``depth infinite`` think until ``stop`` or ``ponderhit``; ``go depth 0`` answers
  ``nobestmove``. At the search level it prints ``info depth D score S pv ...`` (S: the UCI
  centipawns; a mate as ±(10000 - plies), as ElephantEye does) and ``info time MS nodes N``;
- ``bestmove MOVE [draw | resign]``: ``draw`` accepts a draw offered by ``go draw`` or
  ``ponderhit draw`` when the engine expects half a point or less (the search's score, or the
  value net's at the other levels), ``resign`` when the search proves a mate against it;
  ``nobestmove`` when it has no move (none legal, or all banned) and for ``stop`` when idle;
- ``probe {fen FEN | startpos} [moves ...]``: ``pophash bestmove MOVE`` when the kept search
  tree holds the position with visits, else ``pophash``;
- ``isready``, ``stop``, ``ponderhit [draw]`` (answers at once), ``quit`` (or ``bye``),
  answered ``bye`` before the engine exits.
"""

from __future__ import annotations

import math
import threading
from typing import TextIO

from xiangqi import STARTING_FEN, Board, Move, XiangqiError
from xiangqi.engine import Dialect, move_to_text, parse_move_text

from .levels import LEVELS, THINKING_MS, choose_move
from .search import Limits, PvLine, SearchResult, value_net_for
from .uci import UciSession, command_of

MATE_SCORE = 10000
"""A mate's score in plies from it, as ElephantEye reports it: 10000 - plies to mate."""
DRAW_ACCEPT = 0.5
"""Accept a draw when the expected score (win + draw / 2) of the engine is at most this."""
GO_NUMBERS = ("depth", "nodes", "time", "movestogo", "increment")


class UcciSession(UciSession):
    """The UCCI state on top of the UCI one: time unit, banned moves, a draw offer."""

    def __init__(self, model_dir: str | None, level: str, out: TextIO, value_dir: str | None = None) -> None:
        super().__init__(model_dir, level, out, value_dir)
        self.millisec = False
        self.banned: set[Move] = set()
        self.draw_offered = False
        self.held: Move | None = None  # the answer of a non-searching ``go ponder``, until ``stop``
        self.value = None  # the value net for draw offers at the levels that do not search

    def info(self, text: str) -> None:
        self.send(f"info message {text}")

    def handle(self, line: str) -> bool:
        """Answer one UCCI command line; ``False`` after ``quit`` (or ``bye``)."""
        cmd, rest = command_of(line)
        if not cmd:
            return True
        if cmd == "ucci":
            self.identify()
            self.send("option usemillisec type check default false")
            self.send(f"option level type combo {' '.join(f'var {n}' for n in LEVELS)} default {self.level}")
            self.send("option newgame type button")
            self.send("ucciok")
        elif cmd == "setoption":
            self.setoption_ucci(rest)
        elif cmd == "position":
            self.wait()
            self.position_ucci(rest)
        elif cmd == "banmoves":
            self.banmoves(rest)
        elif cmd == "go":
            self.wait()
            self.go_ucci(rest)
        elif cmd in ("stop", "ponderhit"):
            if cmd == "ponderhit" and "draw" in rest:
                self.draw_offered = True
            if self.thread is None and self.held is None:
                self.send("nobestmove")
            self.wait(stop=True)
            if self.held is not None:
                self.send(self.answer(self.board, self.held))
                self.held = None
        elif cmd == "probe":
            self.probe(rest)
        elif cmd in ("quit", "bye"):
            self.wait(stop=True)
            self.send("bye")
            return False
        else:
            return super().handle(line)
        return True

    def setoption_ucci(self, words: list[str]) -> None:
        name, value = (words[0].lower() if words else ""), " ".join(words[1:])
        if name == "usemillisec":
            self.millisec = value.lower() in ("true", "on")
        elif name == "level":
            if value in LEVELS:
                self.level = value
            else:
                self.info(f"unknown level {value}; levels: {' '.join(LEVELS)}")
        elif name == "newgame":
            self.wait(stop=True)
            self.board, self.banned, self.bad_position = Board(), set(), False
            if self.search is not None:
                self.search.clear()

    def position_ucci(self, words: list[str]) -> None:
        try:
            self.board, self.bad_position = read_position(words), False
        except (ValueError, XiangqiError) as e:
            self.info(f"bad position: {e}")
            self.bad_position = True
        self.banned = set()

    def banmoves(self, words: list[str]) -> None:
        try:
            moves = {parse_move_text(text, Dialect.RANKS_0_9) for text in words}
        except ValueError as e:
            self.info(f"bad banmoves: {e}")
            return
        self.banned = moves

    def allowed(self, board: Board) -> list[Move]:
        return [m for m in board.legal_moves if m not in self.banned]

    def go_ucci(self, words: list[str]) -> None:
        self.draw_offered = "draw" in words
        board = self.board.copy()
        allowed = self.allowed(board)
        if self.bad_position or not allowed or ucci_numbers(words).get("depth") == 0:
            self.send("nobestmove")
            return
        waits = "ponder" in words or "infinite" in words
        if self.level in THINKING_MS and self.searcher() is not None:
            limits = ucci_limits(words, self.millisec, THINKING_MS[self.level])
            self.infinite = limits.infinite
            self.search.stop.clear()
            banned = frozenset(self.banned)
            self.thread = threading.Thread(target=self.think_ucci, args=(board, limits, banned))
            self.thread.start()
            return
        self.load()
        move = choose_move(self.policy, board, self.level, self.rng)
        if move in self.banned:  # the most likely allowed move instead
            move = next(m for m, _ in self.policy.candidates(board) if m in allowed)
        self.send(f"info depth 1 pv {move_to_text(move, Dialect.RANKS_0_9)}")
        if waits:
            self.held = move
        else:
            self.send(self.answer(board, move))

    def think_ucci(self, board: Board, limits: Limits, banned: frozenset[Move]) -> None:
        """The search thread: ``info`` lines while it searches, then the answer. The search sees
        enough lines to find the best move that is not banned."""
        assert self.search is not None
        result = self.search.run(board, limits, on_info=lambda r: self.report_ucci(r, banned),
                                 multipv=1 + len(banned))
        line = next((x for x in result.lines if x.move not in banned), None)
        self.send("nobestmove" if line is None else self.answer(board, line.move, line))

    def report_ucci(self, result: SearchResult, banned: frozenset[Move]) -> None:
        line = next((x for x in result.lines if x.move not in banned), None)
        if line is not None:
            pv = " ".join(move_to_text(m, Dialect.RANKS_0_9) for m in line.pv)
            self.send(f"info depth {result.depth} score {ucci_score(line)} pv {pv}")
        self.send(f"info time {max(1, round(result.seconds * 1000))} nodes {result.nodes}")

    def answer(self, board: Board, move: Move, line: PvLine | None = None) -> str:
        """``bestmove MOVE``, with ``resign`` when the search proves a mate against the engine, or
        ``draw`` when a draw is offered and the engine expects half a point or less."""
        text = f"bestmove {move_to_text(move, Dialect.RANKS_0_9)}"
        if line is not None and line.mate is not None and line.mate < 0:
            return text + " resign"
        if self.draw_offered and self.expected_score(board, move, line) <= DRAW_ACCEPT:
            return text + " draw"
        return text

    def expected_score(self, board: Board, move: Move, line: PvLine | None) -> float:
        """The engine's expected score after ``move``: the search's, else the value net's (1.0,
        declining any draw, when the value net cannot be loaded)."""
        if line is not None:
            return line.wdl[0] + line.wdl[1] / 2
        after = board.copy()
        after.push(move)
        if not after.legal_moves:
            return 1.0  # the opponent is mated or stalemated
        if self.value is None:
            try:
                self.value = value_net_for(self.model_dir, self.value_dir)[0]
            except ValueError as e:  # ModelLoadError
                self.info(f"cannot judge a draw offer: {e}")
                return 1.0
        win, draw, loss = self.value.evaluate([after])[0]  # for the opponent
        return float(loss + draw / 2)

    def probe(self, words: list[str]) -> None:
        """``pophash``, with the most visited move of the position in the kept search tree."""
        try:
            board = read_position(words)
        except (ValueError, XiangqiError) as e:
            self.info(f"bad probe: {e}")
            self.send("pophash")
            return
        search = self.search
        node = search.root if search is not None else None
        kept = search.root_board if search is not None else None
        if node is None or kept is None or kept.root().fen() != board.root().fen():
            self.send("pophash")
            return
        before, now = kept.move_stack, board.move_stack
        if now[:len(before)] != before:
            self.send("pophash")
            return
        for move in now[len(before):]:
            node = next((c for c in node.children or [] if c.move == move), None)
            if node is None:
                self.send("pophash")
                return
        visited = [c for c in node.children or [] if c.n > 0]
        if not visited:
            self.send("pophash")
            return
        best = max(visited, key=lambda c: c.n)
        self.send(f"pophash bestmove {move_to_text(best.move, Dialect.RANKS_0_9)}")


def read_position(words: list[str]) -> Board:
    """The board of ``{fen FEN | startpos} [moves ...]`` (ICCS moves); raises ``ValueError`` or
    :class:`~xiangqi.XiangqiError`."""
    split = words.index("moves") if "moves" in words else len(words)
    spec, moves = words[:split], words[split + 1:]
    if spec[:1] == ["startpos"]:
        board = Board(STARTING_FEN)
    elif spec[:1] == ["fen"]:
        board = Board(" ".join(spec[1:]))
    else:
        raise ValueError("expected startpos or fen")
    for text in moves:
        board.push(parse_move_text(text, Dialect.RANKS_0_9))
    return board


def ucci_numbers(words: list[str]) -> dict[str, float]:
    """The numbers of a ``go`` command's :data:`GO_NUMBERS` keys."""
    values: dict[str, float] = {}
    for key, value in zip(words, words[1:], strict=False):
        if key in GO_NUMBERS:
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                values[key] = number
    return values


def ucci_limits(words: list[str], millisec: bool, default_ms: int) -> Limits:
    """The budget of a UCCI ``go`` command (its times in milliseconds when ``millisec``, else
    seconds; the budget's in milliseconds); ``default_ms`` for a ``go`` with none."""
    if "ponder" in words or "infinite" in words:
        return Limits(infinite=True)
    values = ucci_numbers(words)
    movetime = None
    if "time" in values:
        unit = 1.0 if millisec else 1000.0  # milliseconds
        clock, inc = values["time"] * unit, values.get("increment", 0.0) * unit
        share = values.get("movestogo") or 30
        movetime = max(10.0, min(clock / share + inc * 0.75, clock * 0.9))
    nodes, depth = values.get("nodes"), values.get("depth")
    limits = Limits(nodes=int(nodes) if nodes else None, mean_depth=int(depth) if depth else None,
                    movetime=movetime)
    if limits.nodes is None and limits.mean_depth is None and limits.movetime is None:
        limits.movetime = default_ms
    return limits


def ucci_score(line: PvLine) -> int:
    """A line's score as UCCI writes it: centipawns, or ±(:data:`MATE_SCORE` - plies to mate)."""
    if line.mate is None:
        return int(line.score.split()[1])
    if line.mate > 0:
        return MATE_SCORE - (2 * line.mate - 1)
    return -(MATE_SCORE - 2 * -line.mate)
