"""Puzzles: a verified winning line from a position (built by :mod:`data.puzzles_build`), how an
attempt is judged, and Glicko-2 ratings for players and puzzles (as lichess rates puzzles).

The shipped set is ``data/puzzles.jsonl``, one JSON object a line::

    {"id": "5a6e7d71", "fen": "...", "moves": ["e6e7", "d9e8", ...], "themes": ["mate4", "mate-by-chariot"],
     "source": "双车马类(43).xqf"}

``moves`` is the whole line: the solver's moves (even places) and the defender's best replies.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHIPPED_PUZZLES = Path(__file__).resolve().parent / "puzzles.jsonl"
START_RATINGS = {1: 1200, 2: 1400, 3: 1600, 4: 1800, 5: 2000}  # a puzzle's first rating by its mate length


@dataclass(frozen=True)
class Puzzle:
    """A position and its verified line (ICCS); the solver is the side to move."""

    id: str
    fen: str
    moves: list[str]
    themes: list[str]
    source: str

    @property
    def solver_moves(self) -> int:
        return (len(self.moves) + 1) // 2

    @property
    def start_rating(self) -> int:
        return START_RATINGS.get(self.solver_moves, 2000)


def judge(puzzle: Puzzle, played: list[str]) -> bool | None:
    """Whether the solver's moves ``played`` (ICCS, the defender's replies left out) solve the
    puzzle: True when all its moves are played, False at the first wrong move, None while it is
    still going."""
    solver = puzzle.moves[::2]
    for mine, right in zip(played, solver, strict=False):
        if mine != right:
            return False
    return True if len(played) >= len(solver) else None


@cache
def _load(path: str) -> tuple[Puzzle, ...]:
    with open(path, encoding="utf-8") as f:
        return tuple(Puzzle(**json.loads(line)) for line in f if line.strip())


def load_puzzles(path: str | Path | None = None) -> tuple[Puzzle, ...]:
    """The puzzles of a JSON-lines file (the shipped set by default), read once."""
    path = Path(path or SHIPPED_PUZZLES)
    if not path.is_file():
        raise FileNotFoundError(f"no puzzle file at {path} (build one with `xqgpt data puzzles`)")
    return _load(str(path.resolve()))


# ---------------------------------------------------------------- Glicko-2

GLICKO_SCALE = 173.7178
TAU = 0.75  # how fast volatility may change (lichess uses 0.75)
MIN_RD, MAX_RD = 45.0, 350.0


@dataclass(frozen=True)
class Rating:
    """A Glicko-2 rating on the Glicko scale: ``rating`` (1500 new), deviation ``rd``, ``volatility``."""

    rating: float = 1500.0
    rd: float = MAX_RD
    volatility: float = 0.06


def glicko2_update(player: Rating, games: list[tuple[Rating, float]]) -> Rating:
    """``player``'s rating after a rating period of ``games`` (opponent, score: 1 win, 0.5 draw,
    0 loss), by Glickman's Glicko-2; lichess rates each puzzle attempt as a period of one game."""
    mu, phi = (player.rating - 1500) / GLICKO_SCALE, player.rd / GLICKO_SCALE
    terms = []
    for opponent, score in games:
        mu_j, phi_j = (opponent.rating - 1500) / GLICKO_SCALE, opponent.rd / GLICKO_SCALE
        g = 1 / math.sqrt(1 + 3 * phi_j**2 / math.pi**2)
        terms.append((g, 1 / (1 + math.exp(-g * (mu - mu_j))), score))
    v = 1 / sum(g**2 * e * (1 - e) for g, e, _ in terms)
    improvement = sum(g * (s - e) for g, e, s in terms)
    delta = v * improvement
    # The new volatility: Illinois iteration on f(x) = 0 (step 5 of Glickman's paper)
    a = math.log(player.volatility**2)

    def f(x: float) -> float:
        ex = math.exp(x)
        return ex * (delta**2 - phi**2 - v - ex) / (2 * (phi**2 + v + ex) ** 2) - (x - a) / TAU**2

    lo = a
    if delta**2 > phi**2 + v:
        hi = math.log(delta**2 - phi**2 - v)
    else:
        k = 1
        while f(a - k * TAU) < 0:
            k += 1
        hi = a - k * TAU
    f_lo, f_hi = f(lo), f(hi)
    while abs(hi - lo) > 1e-6:
        c = lo + (lo - hi) * f_lo / (f_hi - f_lo)
        f_c = f(c)
        if f_c * f_hi <= 0:
            lo, f_lo = hi, f_hi
        else:
            f_lo /= 2
        hi, f_hi = c, f_c
    sigma = math.exp(lo / 2)
    phi_star = math.sqrt(phi**2 + sigma**2)
    new_phi = 1 / math.sqrt(1 / phi_star**2 + 1 / v)
    new_mu = mu + new_phi**2 * improvement
    return Rating(1500 + new_mu * GLICKO_SCALE, new_phi * GLICKO_SCALE, sigma)


def rate_attempt(player: Rating, puzzle: Rating, solved: bool) -> tuple[Rating, Rating]:
    """Both ratings after an attempt: the player won against the puzzle when it was solved."""
    score = 1.0 if solved else 0.0
    return (_bounded(glicko2_update(player, [(puzzle, score)])),
            _bounded(glicko2_update(puzzle, [(player, 1 - score)])))


def _bounded(r: Rating) -> Rating:
    """lichess keeps a deviation between 45 and 350 (a rating never looks certain)."""
    return Rating(r.rating, min(MAX_RD, max(MIN_RD, r.rd)), r.volatility)


__all__ = ["Puzzle", "Rating", "SHIPPED_PUZZLES", "glicko2_update", "judge", "load_puzzles", "rate_attempt"]
