"""Puzzle ratings, kept in the game store's database beside the player's games: a Glicko-2 rating
for each player (by :func:`server.db.player_key` of the player's secret) and for each puzzle, and
every attempt. Only a player's first attempt at a puzzle moves the ratings (as on lichess).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from data.puzzles import Puzzle, Rating, rate_attempt

METADATA = MetaData()
RATINGS = Table(
    "puzzle_ratings", METADATA,
    Column("kind", String(8), primary_key=True),   # "player" or "puzzle"
    Column("name", String(64), primary_key=True),  # the player's key or the puzzle's id
    Column("rating", Float, nullable=False),
    Column("rd", Float, nullable=False),
    Column("volatility", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("solved", Integer, nullable=False),
)
ATTEMPTS = Table(
    "puzzle_attempts", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("player", String(64), nullable=False, index=True),
    Column("puzzle", String(16), nullable=False),
    Column("solved", Boolean, nullable=False),
    Column("rated", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
CHOICES = 8  # the next puzzle is one of the unseen puzzles this many nearest the player's rating


@dataclass(frozen=True)
class Standing:
    """A rating with its counts."""

    rating: Rating
    attempts: int = 0
    solved: int = 0


class PuzzleStore:
    """Ratings and attempts on the game store's engine (tables made on first use)."""

    def __init__(self, engine: Engine, puzzles: tuple[Puzzle, ...]) -> None:
        self.engine = engine
        self.puzzles = {p.id: p for p in puzzles}
        METADATA.create_all(engine)

    def _standing(self, conn: Connection, kind: str, name: str, start: Rating) -> Standing:
        where = (RATINGS.c.kind == kind) & (RATINGS.c.name == name)
        row = conn.execute(select(RATINGS).where(where)).one_or_none()
        if row is None:
            return Standing(start)
        return Standing(Rating(row.rating, row.rd, row.volatility), row.attempts, row.solved)

    def player(self, player: str) -> Standing:
        with self.engine.connect() as conn:
            return self._standing(conn, "player", player, Rating())

    def puzzle(self, puzzle: Puzzle) -> Standing:
        with self.engine.connect() as conn:
            return self._standing(conn, "puzzle", puzzle.id, Rating(puzzle.start_rating, 250.0))

    def next_for(self, player: str, rng: random.Random) -> Puzzle:
        """A puzzle the player has not tried, near the player's rating (any puzzle once all are tried)."""
        with self.engine.connect() as conn:
            me = self._standing(conn, "player", player, Rating()).rating.rating
            seen = set(conn.scalars(select(ATTEMPTS.c.puzzle).where(ATTEMPTS.c.player == player)))
            query = select(RATINGS.c.name, RATINGS.c.rating).where(RATINGS.c.kind == "puzzle")
            ratings = {name: rating for name, rating in conn.execute(query)}
        unseen = [p for p in self.puzzles.values() if p.id not in seen] or list(self.puzzles.values())
        unseen.sort(key=lambda p: (abs(ratings.get(p.id, p.start_rating) - me), p.id))
        return rng.choice(unseen[:CHOICES])

    def attempt(self, player: str, puzzle: Puzzle, solved: bool) -> tuple[Standing, Standing, bool]:
        """Record an attempt; the player's and the puzzle's standings after it, and whether it
        was rated (the player's first attempt at the puzzle)."""
        with self.engine.begin() as conn:
            tried = conn.scalar(select(func.count()).select_from(ATTEMPTS)
                                .where(ATTEMPTS.c.player == player, ATTEMPTS.c.puzzle == puzzle.id))
            me = self._standing(conn, "player", player, Rating())
            it = self._standing(conn, "puzzle", puzzle.id, Rating(puzzle.start_rating, 250.0))
            rated = not tried
            if rated:
                mine, its = rate_attempt(me.rating, it.rating, solved)
                me = Standing(mine, me.attempts + 1, me.solved + solved)
                it = Standing(its, it.attempts + 1, it.solved + solved)
                self._write(conn, "player", player, me)
                self._write(conn, "puzzle", puzzle.id, it)
            conn.execute(insert(ATTEMPTS).values(player=player, puzzle=puzzle.id, solved=solved, rated=rated,
                                                 created_at=datetime.now(UTC)))
        return me, it, rated

    @staticmethod
    def _write(conn: Connection, kind: str, name: str, s: Standing) -> None:
        values = {"rating": s.rating.rating, "rd": s.rating.rd, "volatility": s.rating.volatility,
                  "attempts": s.attempts, "solved": s.solved}
        where = (RATINGS.c.kind == kind) & (RATINGS.c.name == name)
        if conn.execute(update(RATINGS).where(where).values(**values)).rowcount == 0:
            conn.execute(insert(RATINGS).values(kind=kind, name=name, **values))
