"""Saved games in a SQL database through SQLAlchemy (SQLite by default, any SQLAlchemy URL works).

A game is stored as its start position and its moves in ICCS; everything else (the current
position, notation, legal moves) is recomputed from them. Every write goes through
:meth:`GameStore.update`, which checks the row's version so that two requests racing on one
game cannot both win (optimistic concurrency). A write commits only when the caller's ``then``
callback (which builds the answer from the new game) succeeds, so a request that fails stores
nothing.

A game belongs to its player. It is known to the world by an unguessable public id (what a link
carries: anyone who has it may watch) and to its player by a secret that only the creating client
is given (:func:`new_secret`): the store keeps the secret's SHA-256 (:func:`player_key`), which
names the player's games (:meth:`GameStore.recent`) and which moves, take-backs and resignations
must match (:func:`is_player`). The row's integer id stays inside this module.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, Row, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


class GameRow(Base):
    """One saved game."""

    __tablename__ = "games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, index=True)  # what links carry
    player: Mapped[str] = mapped_column(String(64))  # SHA-256 (hex) of the player's secret
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    start_fen: Mapped[str] = mapped_column(String(128))
    moves: Mapped[str] = mapped_column(Text, default="")  # ICCS moves separated by spaces
    human_side: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(8), default="*")
    termination: Mapped[str | None] = mapped_column(String(32), nullable=True)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_games_player_updated_at", "player", "updated_at"),)


# A move request reads and updates one game through SQLAlchemy Core on this table: several times
# less Python per request than the ORM's session.
GAME_TABLE = GameRow.__table__
T = TypeVar("T")


@dataclass(frozen=True)
class StoredGame:
    """A plain copy of a stored game, detached from any database session. ``id`` is the public id;
    ``player`` the SHA-256 of its player's secret."""

    id: str
    created_at: datetime
    updated_at: datetime
    start_fen: str
    moves: list[str]
    human_side: str
    level: str
    result: str
    termination: str | None
    headers: dict[str, str] = field(default_factory=dict)
    version: int = 1
    player: str = ""


class GameNotFound(LookupError):
    """No game with this id."""


class NotYourGame(PermissionError):
    """A move, take-back or resignation without the game's player secret."""


class GameConflict(RuntimeError):
    """The game changed between reading and writing it."""


def default_db_url() -> str:
    """SQLite file in the user's data directory ($XDG_DATA_HOME/xqgpt or ~/.local/share/xqgpt)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    folder = Path(base) / "xqgpt"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'games.db'}"


def new_public_id() -> str:
    """An unguessable game id for links: 12 characters of ``A-Za-z0-9_-`` (72 random bits)."""
    return secrets.token_urlsafe(9)


def new_secret() -> str:
    """A player secret: 32 characters of ``A-Za-z0-9_-`` (192 random bits)."""
    return secrets.token_urlsafe(24)


def player_key(secret: str) -> str:
    """What the store keeps of a player's secret (SHA-256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_player(game: StoredGame, secret: str | None) -> bool:
    """Whether ``secret`` is the secret of ``game``'s player."""
    return secret is not None and hmac.compare_digest(game.player, player_key(secret))


def _now() -> datetime:
    return datetime.now(UTC)


def _stored(row: GameRow | Row) -> StoredGame:
    def aware(t: datetime) -> datetime:  # SQLite drops the time zone; times are stored in UTC
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    return StoredGame(id=row.public_id, player=row.player, created_at=aware(row.created_at),
                      updated_at=aware(row.updated_at),
                      start_fen=row.start_fen, moves=row.moves.split(), human_side=row.human_side,
                      level=row.level, result=row.result, termination=row.termination,
                      headers=dict(row.headers or {}), version=row.version)


def _enable_wal(dbapi_conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """Switch a SQLite file to WAL mode. The switch takes an exclusive lock without waiting on the
    busy timeout, so connections opening a new database at once retry it for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode and cross-thread use for the server's threadpool."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        # A file keeps a connection for each of the threadpool's threads (AnyIO's 40), rather than
        # SQLAlchemy's default 5 (+10 reopened on every use) that the server outgrows at once.
        pooling = {"poolclass": StaticPool} if in_memory else {"pool_size": 40, "max_overflow": 10}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pooling)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            if not in_memory:
                _enable_wal(dbapi_conn)
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


_SCHEMA_LOCK = 0x7871677074  # PostgreSQL advisory lock key ("xqgpt") held while creating tables


def _create_tables(engine: Engine) -> None:
    """Create missing tables in one transaction. Several server processes may start at once: they
    take turns (PostgreSQL: an advisory lock; SQLite: a write lock taken before the tables are looked
    up), so none fails on a table another is creating."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        Base.metadata.create_all(conn)
        _give_games_owners(conn)


def _give_games_owners(conn: Connection) -> None:
    """Migrate a database from before games had owners: each game gets a public id and a player
    whose secret nobody holds (it was never handed out), so an old game can be watched through its
    public id and continued as a new game, but not played on. Runs inside :func:`_create_tables`'s
    locked transaction."""
    if "public_id" in {c["name"] for c in inspect(conn).get_columns("games")}:
        return
    conn.execute(text("ALTER TABLE games ADD COLUMN public_id VARCHAR(16)"))
    conn.execute(text("ALTER TABLE games ADD COLUMN player VARCHAR(64)"))
    for (game_id,) in conn.execute(select(GAME_TABLE.c.id)).all():
        conn.execute(update(GAME_TABLE).where(GAME_TABLE.c.id == game_id)
                     .values(public_id=new_public_id(), player=player_key(new_secret())))
    for index in GAME_TABLE.indexes:
        index.create(conn, checkfirst=True)


class GameStore:
    """Create, read, update and list games; each call is one short transaction.

    :meth:`create` and :meth:`update` call ``then(game)`` on the written game inside the
    transaction and return what it returns: if it raises, the transaction is rolled back.
    """

    def __init__(self, url: str) -> None:
        """Open (and if needed create) the database; ValueError if that fails."""
        self.url = url
        try:
            self.engine = make_engine(url)
            _create_tables(self.engine)
        except (ArgumentError, ModuleNotFoundError, OperationalError) as e:
            shown = make_url(url).render_as_string(hide_password=True) if "://" in url else url
            raise ValueError(f"cannot open database {shown}: {e}") from e
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def create(self, *, player: str, start_fen: str, moves: list[str], human_side: str, level: str,
               result: str = "*", termination: str | None = None,
               headers: dict[str, str] | None = None,
               then: Callable[[StoredGame], T] = lambda game: game) -> T:
        """Store a new game of ``player`` (:func:`player_key` of its secret) under a new public id;
        ``then(game)`` runs before the commit (see the class docstring)."""
        now = _now()
        row = GameRow(public_id=new_public_id(), player=player, created_at=now, updated_at=now,
                      start_fen=start_fen, moves=" ".join(moves),
                      human_side=human_side, level=level, result=result, termination=termination,
                      headers=headers or {}, version=1)
        with self._session.begin() as s:
            s.add(row)
            s.flush()
            return then(_stored(row))

    def get(self, game_id: str) -> StoredGame:
        """The game with public id ``game_id``; :class:`GameNotFound` if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(GAME_TABLE).where(GAME_TABLE.c.public_id == game_id)).one_or_none()
        if row is None:
            raise GameNotFound(f"game {game_id} not found")
        return _stored(row)

    def update(self, game: StoredGame, *, moves: list[str], result: str, termination: str | None,
               then: Callable[[StoredGame], T] = lambda game: game) -> T:
        """Write new moves and result if the stored game is still at ``game.version``;
        ``then(new game)`` runs before the commit (see the class docstring)."""
        now = _now()
        with self.engine.begin() as conn:
            res = conn.execute(update(GAME_TABLE)
                               .where(GAME_TABLE.c.public_id == game.id, GAME_TABLE.c.version == game.version)
                               .values(moves=" ".join(moves), result=result, termination=termination,
                                       updated_at=now, version=game.version + 1))
            if res.rowcount != 1:
                raise GameConflict(f"game {game.id} was changed by another request; reload it")
            return then(replace(game, updated_at=now, moves=list(moves), result=result,
                                termination=termination, version=game.version + 1))

    def recent(self, player: str, limit: int, offset: int) -> tuple[list[StoredGame], int]:
        """The games of ``player`` (:func:`player_key` of its secret), most recently updated
        first, and how many it has."""
        with self._session() as s:
            total = s.scalar(select(func.count()).select_from(GameRow).where(GameRow.player == player)) or 0
            rows = s.scalars(select(GameRow).where(GameRow.player == player)
                             .order_by(GameRow.updated_at.desc(), GameRow.id.desc())
                             .limit(limit).offset(offset))
            return [_stored(r) for r in rows], total

    def close(self) -> None:
        self.engine.dispose()
