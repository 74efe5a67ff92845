"""A client for xiangqi engines that speak UCI (Pikafish, Fairy-Stockfish, ``xqgpt uci``, ...) or
UCCI (ElephantEye and the engines of Chinese GUIs; ``xqgpt uci`` too).

Like python-chess's ``chess.engine``, it is a rules-level tool built on the public :class:`Board`
API: :class:`EngineSpec` says how to start an engine, :class:`Limit` how long it searches and
:class:`UciClient` drives it.

Xiangqi engines write squares in one of two dialects: ranks 0-9 as in ICCS (``h2e2``; Pikafish,
``xqgpt uci``) or ranks 1-10 as in Fairy-Stockfish (``h3e3``). The client learns the dialect from
the engine's name, from any move text it prints (a rank ``10`` or a rank ``0`` settles it) and,
for a still ambiguous best move, from which reading is legal. Until the dialect is known it sends
positions as a bare FEN, which reads the same in both.

UCCI (the Universal Chinese Chess Interface, https://www.xqbase.com/protocol/cchess_ucci.htm) is
UCI's Chinese sibling: the client opens with ``ucci`` and waits for ``ucciok``, sets options as
``setoption NAME VALUE``, asks for milliseconds (``setoption usemillisec true``) when the engine
offers them, starts a game with ``setoption newgame``, searches with ``go depth N``, ``go nodes N``
or ``go time T movestogo 1`` (a fixed time a move), reads ``bestmove MOVE [ponder MOVE] [draw |
resign]`` or ``nobestmove``, and closes with ``quit``, which the engine answers with ``bye``. UCCI
moves are always ICCS (ranks 0-9).
"""

from __future__ import annotations

import queue
import re
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import IO

from .base import Move, XiangqiError
from .core import Board

_MOVE_RE = re.compile(r"^([a-i])(10|[0-9])([a-i])(10|[0-9])$")
_ONE_TEN_ENGINES = ("fairy-stockfish", "fairy stockfish")
PROTOCOLS = ("uci", "ucci")


class Dialect(Enum):
    """How an engine writes ranks in move text."""

    RANKS_0_9 = 0
    """ICCS: ``h2e2`` (Pikafish, ``xqgpt uci``)."""
    RANKS_1_10 = 1
    """Fairy-Stockfish: ``h3e3``."""


@dataclass(frozen=True)
class Limit:
    """How long an engine searches a move: any of ``movetime`` (ms), ``depth`` and ``nodes``."""

    movetime: int | None = None
    depth: int | None = None
    nodes: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{f.name} must be a positive integer, not {value!r}")

    def go_command(self) -> str:
        """The UCI ``go`` command for this limit, e.g. ``go movetime 100``."""
        return " ".join(["go"] + [f"{f.name} {getattr(self, f.name)}" for f in fields(self)
                                  if getattr(self, f.name) is not None])

    def wait_seconds(self, timeout: float) -> float:
        """How long to wait for ``bestmove``: ``timeout`` plus twice the movetime, or plus 50 s
        without a movetime."""
        if self.movetime is None:
            return timeout + 50.0
        return timeout + self.movetime / 1000 * 2


@dataclass(frozen=True)
class Cp:
    """A score in centipawns for the side to move (UCI ``score cp``)."""

    cp: int

    def score(self, mate_score: int) -> int:
        """Centipawns (``mate_score`` is for :meth:`Mate.score`)."""
        return self.cp


@dataclass(frozen=True)
class Mate:
    """A forced mate (UCI ``score mate``): the side to move mates in ``moves`` moves (> 0), is
    mated in ``-moves`` (< 0), or is mated now (0)."""

    moves: int

    def score(self, mate_score: int) -> int:
        """``mate_score`` centipawns when the side to move mates, ``-mate_score`` when it is mated."""
        return mate_score if self.moves > 0 else -mate_score


Score = Cp | Mate


def parse_score(words: list[str]) -> Score | None:
    """The score of the words after ``score`` in an ``info`` line (``cp 35``, ``mate -3``; a
    ``lowerbound``/``upperbound`` after it is ignored), or ``None`` if they are not one."""
    if len(words) < 2 or words[0] not in ("cp", "mate"):
        return None
    try:
        value = int(words[1])
    except ValueError:
        return None
    return Cp(value) if words[0] == "cp" else Mate(value)


def _multipv(words: list[str]) -> int:
    """The ``multipv`` number of an ``info`` line (1 when it has none)."""
    if "multipv" in words:
        i = words.index("multipv") + 1
        if i < len(words) and words[i].isdigit():
            return int(words[i])
    return 1


class UciError(RuntimeError):
    """The engine died, timed out, or said something that breaks the protocol."""


def move_to_text(move: Move, dialect: Dialect) -> str:
    """Move text in a dialect: ``h2e2`` in ranks 0-9, ``h3e3`` in ranks 1-10."""
    text = move.uci()
    if dialect is Dialect.RANKS_0_9:
        return text
    return f"{text[0]}{int(text[1]) + 1}{text[2]}{int(text[3]) + 1}"


def parse_move_text(text: str, dialect: Dialect) -> Move:
    """Parse move text written in a dialect; raises ``ValueError`` if it is not a move there."""
    m = _MOVE_RE.match(text.strip().lower())
    if not m:
        raise ValueError(f"not a move: {text!r}")
    f1, r1, f2, r2 = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
    if dialect is Dialect.RANKS_1_10:
        r1, r2 = r1 - 1, r2 - 1
    if not (0 <= r1 <= 9 and 0 <= r2 <= 9):
        ranks = "1-10" if dialect is Dialect.RANKS_1_10 else "0-9"
        raise ValueError(f"not a move in ranks {ranks}: {text!r}")
    return Move.from_uci(f"{f1}{r1}{f2}{r2}")


def dialect_of(texts: list[str]) -> Dialect | None:
    """The dialect that move texts prove (a rank 10 or a rank 0), or ``None`` if they do not."""
    for text in texts:
        m = _MOVE_RE.match(text.lower())
        if m:
            ranks = (m.group(2), m.group(4))
            if "10" in ranks:
                return Dialect.RANKS_1_10
            if "0" in ranks:
                return Dialect.RANKS_0_9
    return None


@dataclass
class EngineSpec:
    """How to start and drive an engine: command, options, search limit, dialect, protocol."""

    command: list[str]
    options: dict[str, str] = field(default_factory=dict)
    limit: Limit | None = None
    dialect: Dialect | None = None
    protocol: str = "uci"  # or "ucci"

    @classmethod
    def parse(cls, text: str) -> EngineSpec:
        """Parse ``PATH[ ARGS][?Option=value&...]``.

        The keys ``movetime``, ``depth`` and ``nodes`` set the ``go`` limits, ``ranks=0`` or
        ``ranks=1`` forces the dialect, ``protocol=ucci`` speaks UCCI (ranks 0-9); every other key
        is an engine option, e.g. ``/usr/games/fairy-stockfish?Skill Level=-5&depth=4``.
        """
        path, _, query = text.partition("?")
        if not path.strip():
            raise ValueError(f"no engine command in {text!r}")
        spec = cls(command=shlex.split(path))
        limits: dict[str, int] = {}
        for item in filter(None, query.split("&")):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ValueError(f"engine option {item!r} is not Name=value")
            if key in _LIMIT_NAMES:
                if not value.strip().isdigit():
                    raise ValueError(f"{key} must be a positive integer, not {value!r}")
                limits[key] = int(value)
            elif key == "ranks":
                if value not in ("0", "1"):
                    raise ValueError("ranks must be 0 (ranks 0-9) or 1 (ranks 1-10)")
                spec.dialect = Dialect(int(value))
            elif key == "protocol":
                if value not in PROTOCOLS:
                    raise ValueError(f"protocol must be uci or ucci, not {value!r}")
                spec.protocol = value
            else:
                spec.options[key] = value.strip()
        if limits:
            spec.limit = Limit(**limits)
        if spec.protocol == "ucci":
            if spec.dialect is Dialect.RANKS_1_10:
                raise ValueError("UCCI moves are ICCS (ranks 0-9): ranks=1 does not go with protocol=ucci")
            spec.dialect = Dialect.RANKS_0_9
        return spec


_LIMIT_NAMES = tuple(f.name for f in fields(Limit))


class UciClient:
    """A running UCI or UCCI engine (``spec.protocol``): ``start()``, ``bestmove(board)``,
    ``analyse(board)``, ``close()`` (or use ``with``).

    ``timeout`` bounds each answer (plus twice the movetime for ``go``, or 50 s more for depth
    and node limits); ``startup_timeout`` bounds the handshake. After each ``bestmove`` or
    ``analyse``, :attr:`offer` is what a UCCI engine added to its move: ``"draw"`` (it offers or
    accepts a draw), ``"resign"`` or ``None``.
    """

    def __init__(self, spec: EngineSpec, *, movetime: int = 100, timeout: float = 10.0,
                 startup_timeout: float = 120.0) -> None:
        self.spec = spec
        self.movetime = movetime
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.name = spec.command[0]
        self.dialect = spec.dialect
        self.engine_options: dict[str, str] = {}
        self.offer: str | None = None
        self._ucci = spec.protocol == "ucci"
        self.millisec = False  # UCCI: the engine takes times in milliseconds (else seconds)
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def __enter__(self) -> UciClient:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- process and lines ----------------------------------------------------

    def start(self) -> None:
        """Start the engine, do the ``uci`` (``ucci``) and ``isready`` handshake and set the options."""
        try:
            self._proc = subprocess.Popen(self.spec.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True, bufsize=1)
        except OSError as e:
            raise UciError(f"cannot start engine {self.spec.command!r}: {e}") from e
        threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True).start()
        self._send("ucci" if self._ucci else "uci")
        option = "option " if self._ucci else "option name "  # UCCI options have no "name"
        for line in self._until("ucciok" if self._ucci else "uciok", self.startup_timeout):
            if line.startswith("id name "):
                self.name = line[len("id name "):].strip()
            elif line.startswith(option):
                name, _, rest = line[len(option):].partition(" type ")
                self.engine_options[name.strip()] = rest
        if self.dialect is None and any(n in self.name.lower() for n in _ONE_TEN_ENGINES):
            self.dialect = Dialect.RANKS_1_10
        if "xiangqi" in self.engine_options.get("UCI_Variant", "").split():
            self._send("setoption name UCI_Variant value xiangqi")
        if self._ucci and "usemillisec" in self.engine_options:
            self._send("setoption usemillisec true")
            self.millisec = True
        for key, value in self.spec.options.items():
            self._send(f"setoption {key} {value}" if self._ucci else f"setoption name {key} value {value}")
        self.isready(self.startup_timeout)

    def _read_stdout(self, stdout: IO[str]) -> None:
        try:
            for line in stdout:
                self._lines.put(line.strip())
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def _send(self, command: str) -> None:
        if self._proc is None or self._proc.stdin is None or self._proc.poll() is not None:
            raise UciError(f"engine {self.name} is not running")
        try:
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
        except OSError as e:
            raise UciError(f"engine {self.name} closed its input: {e}") from e

    def _until(self, token: str, timeout: float, *others: str) -> list[str]:
        """Lines up to and including the first that starts with ``token`` (or one of ``others``)."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise UciError(f"engine {self.name} sent no {token!r} within {timeout:g} s") from None
            if line is None:
                raise UciError(f"engine {self.name} exited while we waited for {token!r}")
            lines.append(line)
            if line.split(" ", 1)[0] in (token, *others):
                return lines

    # -- commands -------------------------------------------------------------

    def isready(self, timeout: float | None = None) -> None:
        """Send ``isready`` and wait for ``readyok`` (engines may load their network then)."""
        self._send("isready")
        self._until("readyok", timeout or self.timeout)

    def new_game(self) -> None:
        """Send ``ucinewgame`` (UCCI: ``setoption newgame``) and wait until the engine is ready."""
        self._send("setoption newgame" if self._ucci else "ucinewgame")
        self.isready()

    def go_command(self, limit: Limit) -> str:
        """The ``go`` command for a limit. UCCI searches one way only: by ``depth``, else by
        ``nodes``, else a movetime as the whole clock of one move (``go time T movestogo 1``)."""
        if not self._ucci:
            return limit.go_command()
        if limit.depth is not None:
            return f"go depth {limit.depth}"
        if limit.nodes is not None:
            return f"go nodes {limit.nodes}"
        ms = limit.movetime if limit.movetime is not None else self.movetime
        return f"go time {ms if self.millisec else max(1, round(ms / 1000))} movestogo 1"

    def position_command(self, board: Board) -> str:
        """The ``position`` command for a board: start FEN and moves once the dialect is known."""
        root = board.root()
        if self.dialect is None or not board.move_stack:
            return f"position fen {board.fen()}"
        moves = " ".join(move_to_text(m, self.dialect) for m in board.move_stack)
        return f"position fen {root.fen()} moves {moves}"

    def bestmove(self, board: Board) -> Move:
        """The engine's move in this position (searched with the spec's limits or ``movetime``)."""
        lines = self._go(board, self.spec.limit or Limit(movetime=self.movetime))
        if lines[-1] == "nobestmove":
            raise UciError(f"engine {self.name} has no move in {board.fen()}")
        return self._read_bestmove(lines[-1].split(), board)

    def analyse(self, board: Board, limit: Limit | None = None) -> tuple[Score, Move | None]:
        """The engine's score for the side to move and its best move (``None`` when the side to
        move has no legal move), searched with ``limit``, else the spec's limits or ``movetime``.
        The score is the last ``info ... score`` the engine printed before ``bestmove``."""
        lines = self._go(board, limit or self.spec.limit or Limit(movetime=self.movetime))
        score = None
        for line in lines:
            words = line.split()
            if words[:1] == ["info"] and "score" in words:
                after = words[words.index("score") + 1:]
                if self._ucci and after:  # UCCI scores are bare numbers
                    after = ["cp", after[0]]
                parsed = parse_score(after)
                if parsed is not None and _multipv(words) == 1:
                    score = parsed
        if score is None:
            raise UciError(f"engine {self.name} sent no score for {board.fen()}")
        words = lines[-1].split()
        move = None if words[1:2] in (["(none)"], []) else self._read_bestmove(words, board)
        return score, move

    def _go(self, board: Board, limit: Limit) -> list[str]:
        """Search a position; the lines up to and including ``bestmove``."""
        self._send(self.position_command(board))
        self._send(self.go_command(limit))
        try:
            lines = self._until("bestmove", limit.wait_seconds(self.timeout), "nobestmove")
        except UciError:
            if self._proc is not None and self._proc.poll() is None:
                self._send("stop")
                lines = self._until("bestmove", 2.0, "nobestmove")
            else:
                raise
        last = lines[-1].split()
        self.offer = next((w for w in last[2:] if w in ("draw", "resign")), None)
        words = [w for line in lines for w in line.split()]
        if self.dialect is None:
            self.dialect = dialect_of(words)
        return lines

    def _read_bestmove(self, words: list[str], board: Board) -> Move:
        if len(words) < 2:
            raise UciError(f"engine {self.name} sent an empty bestmove")
        text = words[1]
        dialects = [self.dialect] if self.dialect is not None else list(Dialect)
        legal = []
        for dialect in dialects:
            try:
                move = parse_move_text(text, dialect)
            except (ValueError, XiangqiError):
                continue
            if board.is_legal(move):
                legal.append((dialect, move))
        if not legal:
            raise UciError(f"engine {self.name} played {text!r}, not a legal move in {board.fen()}")
        if len(legal) == 1:
            self.dialect = legal[0][0]
        return legal[0][1]

    def close(self) -> None:
        """Send ``quit`` and wait 2 s for the engine to exit, or ``timeout`` once a UCCI engine has
        answered ``bye``; kill it if it does not."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        grace = 2.0
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
                if self._ucci:
                    self._until("bye", self.timeout)
                    grace = self.timeout  # it is on its way out
        except (OSError, UciError):
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
