"""The opening explorer's index: what master games played in a position, and how they went.

An index is an SQLite file written by :mod:`data.explorer_build` (``xqgpt data explorer``). A
position is keyed by its board and side to move (the first two FEN fields), so transpositions
meet and a mirror image is another position. Its tables::

    meta(name, value)                         how it was built (JSON values)
    moves(key, move, games, red, draws, black, rating_sum, rated)
    examples(key, rank, game, move)           a few games that reached the position
    games(id, red, black, red_elo, black_elo, event, year, result, fen, moves)

``moves.games`` counts the games that played the move in the position before one of their
first N moves (each game once, however often it came back, so a position's games are the sum of
its moves' games), ``red``/``draws``/``black`` how those games ended (games without a result
count in none), ``rating_sum``/``rated`` the mean of the players' ratings over the games whose
records have one. ``games.moves`` holds a game's moves as little-endian int16 indices of the
move vocabulary (:mod:`xiangqi.vocab`).

:class:`Explorer` reads an index; it needs only the standard library and SQLAlchemy, so the
server opens it by a URL as it opens the game store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from xiangqi import Board, Move, index_move, move_index
from xiangqi.encoding import board_codes, side_code
from xiangqi.notation import to_chinese, to_wxf

SHIPPED_INDEX = Path(__file__).resolve().parent / "explorer.sqlite"

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE moves (key INTEGER NOT NULL, move TEXT NOT NULL, games INTEGER NOT NULL, red INTEGER NOT NULL,
    draws INTEGER NOT NULL, black INTEGER NOT NULL, rating_sum INTEGER NOT NULL, rated INTEGER NOT NULL,
    PRIMARY KEY (key, move)) WITHOUT ROWID;
CREATE TABLE examples (key INTEGER NOT NULL, rank INTEGER NOT NULL, game INTEGER NOT NULL, move TEXT NOT NULL,
    PRIMARY KEY (key, rank)) WITHOUT ROWID;
CREATE TABLE games (id INTEGER PRIMARY KEY, red TEXT, black TEXT, red_elo INTEGER, black_elo INTEGER,
    event TEXT, year INTEGER, result TEXT NOT NULL, fen TEXT NOT NULL, moves BLOB NOT NULL);
"""


def pack_moves(moves: list[Move]) -> bytes:
    """Moves as little-endian int16 vocabulary indices (``games.moves``)."""
    return np.array([move_index(m) for m in moves], dtype="<i2").tobytes()


def unpack_moves(data: bytes) -> list[str]:
    """The ICCS moves of :func:`pack_moves`'s bytes."""
    return [index_move(int(i)).uci() for i in np.frombuffer(data, dtype="<i2")]


def position_key(board: Board) -> int:
    """The index key of a position: a 64-bit hash of its board codes and side to move (signed, as
    SQLite stores integers). Move counters and the game's history do not enter it."""
    data = board_codes(board) + bytes([side_code(board)])
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class Stats:
    """Games that reached a position or played a move, and how they ended (Red's wins, draws,
    Black's wins; games without a result count in none), with the players' mean rating."""

    games: int
    red: int
    draws: int
    black: int
    rating: int | None

    @classmethod
    def from_row(cls, games: int, red: int, draws: int, black: int, rating_sum: int, rated: int) -> Stats:
        return cls(games, red, draws, black, round(rating_sum / rated) if rated else None)


@dataclass(frozen=True)
class MoveStats:
    """A move played in the position (ICCS) and the games that played it."""

    move: str
    stats: Stats


@dataclass(frozen=True)
class ExampleGame:
    """A game that reached the position: who played it, where, when, how it ended, the move it
    played there, and its moves from its start (ICCS)."""

    id: int
    red: str | None
    black: str | None
    red_elo: int | None
    black_elo: int | None
    event: str | None
    year: int | None
    result: str
    move: str
    fen: str
    moves: list[str]


@dataclass(frozen=True)
class Entry:
    """What the index holds about a position; ``stats`` is None when it is not in the index."""

    stats: Stats | None
    moves: list[MoveStats]
    examples: list[ExampleGame]

    def as_dict(self, board: Board) -> dict:
        """The entry as JSON-ready data, each move also in WXF and Chinese (``xqgpt explore --json``)."""
        moves = [{"move": m.move, **_notations(board, m.move), **asdict(m.stats)} for m in self.moves]
        return {"fen": board.fen(), "position": asdict(self.stats) if self.stats else None, "moves": moves,
                "examples": [asdict(g) for g in self.examples]}


def _notations(board: Board, uci: str) -> dict[str, str]:
    move = Move.from_uci(uci)
    return {"wxf": to_wxf(board, move), "chinese": to_chinese(board, move)}


def _percent(part: int, stats: Stats) -> str:
    decided = stats.red + stats.draws + stats.black
    return f"{100 * part / decided:3.0f}%" if decided else "   -"


def explore_text(board: Board, entry: Entry, notation: str = "wxf") -> str:
    """The entry as a table: each move, its games, Red wins / draws / Black wins and mean rating."""
    if entry.stats is None:
        return "no game of the index reached this position"
    lines = [f"{'move':<10} {'games':>6} {'red':>5} {'draw':>5} {'black':>5} {'rating':>6}"]
    for m in [MoveStats("total", entry.stats), *entry.moves]:
        name = m.move if m.move == "total" or notation == "iccs" else _notations(board, m.move)[notation]
        pad = 10 - sum(1 for ch in name if ord(ch) > 0x2E80)  # wide characters take two columns
        lines.append(f"{name:<{pad}} {m.stats.games:>6} {_percent(m.stats.red, m.stats)} "
                     f"{_percent(m.stats.draws, m.stats)} {_percent(m.stats.black, m.stats)} "
                     f"{m.stats.rating or '':>6}")
    for g in entry.examples:
        where = f"{g.event or ''} {g.year or ''}".strip()
        lines.append(f"  {g.red or '?'} - {g.black or '?'}  {g.result}  {where}".rstrip())
    return "\n".join(lines)


def explorer_url(location: str | None = None) -> str:
    """A database URL for an index given as a URL or a file path (the shipped index by default).
    A file opens read-only."""
    location = location or str(SHIPPED_INDEX)
    try:
        make_url(location)
        return location
    except ArgumentError:
        path = Path(location).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no explorer index at {location}") from None
        return f"sqlite:///file:{path}?mode=ro&uri=true"


class Explorer:
    """A read-only opening index, opened by a URL or a path (:func:`explorer_url`)::

        >>> from xiangqi import Board
        >>> entry = Explorer().lookup(Board())
        >>> entry.stats.games > 1000, entry.moves[0].move
        (True, 'h2e2')
    """

    def __init__(self, location: str | None = None) -> None:
        self.url = explorer_url(location)
        self.engine: Engine = create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", lambda conn, _: conn.execute("PRAGMA query_only = ON"))
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, value FROM meta")).all()
        self.meta: dict = {name: json.loads(value) for name, value in rows}

    def close(self) -> None:
        self.engine.dispose()

    def lookup(self, board: Board, examples: int = 3) -> Entry:
        """The position's games, its moves most played first, and up to ``examples`` example games."""
        key = position_key(board)
        with self.engine.connect() as conn:
            moves = conn.execute(text("SELECT move, games, red, draws, black, rating_sum, rated FROM moves "
                                      "WHERE key = :k ORDER BY games DESC, move"), {"k": key}).all()
            if not moves:
                return Entry(None, [], [])
            games = conn.execute(text(
                "SELECT g.id, g.red, g.black, g.red_elo, g.black_elo, g.event, g.year, g.result, e.move, "
                "g.fen, g.moves FROM examples e JOIN games g ON g.id = e.game "
                "WHERE e.key = :k ORDER BY e.rank LIMIT :n"), {"k": key, "n": examples}).all()
        total = [sum(m[i] for m in moves) for i in range(1, 7)]
        return Entry(Stats.from_row(*total), [MoveStats(m[0], Stats.from_row(*m[1:])) for m in moves],
                     [ExampleGame(*g[:10], unpack_moves(g[10])) for g in games])


__all__ = ["Entry", "ExampleGame", "Explorer", "MoveStats", "SHIPPED_INDEX", "SCHEMA", "Stats",
           "explore_text", "explorer_url", "pack_moves", "position_key", "unpack_moves"]
