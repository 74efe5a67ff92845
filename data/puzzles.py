"""Puzzles: a verified winning line from a position (built by :mod:`data.puzzles_build`), how an
attempt is judged, and Glicko-2 ratings for players and puzzles (as lichess rates puzzles).

The shipped set is ``data/puzzles.jsonl``, one JSON object a line::

    {"id": "5a6e7d71", "fen": "...", "moves": ["e6e7", "d9e8", ...], "themes": ["mate4", "mate-by-chariot"],
     "source": "双车马类(43).xqf"}

``moves`` is the whole line: the solver's moves (even places) and the defender's best replies.
``themes`` (see :func:`themes`) and ``source`` may be left out: the loader computes the themes
from the line, so files written before a theme was added still load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from xiangqi import Board, IllegalMoveError, Move
from xiangqi.base import PIECE_NAMES, PIECE_VALUES

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


def themes(fen: str, moves: list[str]) -> list[str]:
    """A line's themes: ``mateN`` (N the solver's moves), the piece that gives the mate
    (``mate-by-chariot``...) and ``sacrifice`` when a solver's move before the mate is one
    (:func:`is_sacrifice`)."""
    board, sacrifice = Board(fen), False
    for i, uci in enumerate(moves[:-1]):
        move = Move.from_uci(uci)
        sacrifice = sacrifice or (i % 2 == 0 and is_sacrifice(board, move))
        board.push(move)
    mater = board.piece_at(Move.from_uci(moves[-1]).from_square)
    found = [f"mate{(len(moves) + 1) // 2}", f"mate-by-{PIECE_NAMES[mater.piece_type]}"]
    return found + ["sacrifice"] if sacrifice else found


def is_sacrifice(board: Board, move: Move) -> bool:
    """Whether ``move`` gives material away: after it the opponent can take the piece it moved (a
    legal capture on its square, whether or not the line takes it) and that piece is worth more
    (:data:`xiangqi.base.PIECE_VALUES`) than what the move took. A chariot that takes a chariot and is taken
    back is an exchange, not a sacrifice."""
    mover = board.piece_at(move.from_square)
    taken = board.piece_at(move.to_square)
    board.push(move)
    can_take = any(m.to_square == move.to_square for m in board.legal_moves)
    board.pop()
    return can_take and PIECE_VALUES[mover.piece_type] > (PIECE_VALUES[taken.piece_type] if taken else 0.0)


def play_attempt(puzzle: Puzzle, played: list[str]) -> tuple[bool | None, Board]:
    """Play the solver's moves ``played`` (ICCS, the defender's replies left out) against the
    line's replies. Returns the verdict and the position after the last move looked at: True when
    all the solver's moves of the line are played, or when a move off the line mates at once (it
    leaves the defender no legal move, as lichess accepts another mate in one); False at a move
    off the line that does not; None while the attempt is still going. The attempt ends at its
    first move off the line (later moves are not looked at). Raises
    :class:`~xiangqi.IllegalMoveError` for a move that is not legal where it is played."""
    board = Board(puzzle.fen)
    for i, uci in enumerate(played):
        move = Move.from_uci(uci)
        if not board.is_legal(move):
            raise IllegalMoveError(f"{uci} is not a legal move in {board.fen()}")
        board.push(move)
        if uci != puzzle.moves[2 * i]:
            return not board.legal_moves, board
        if 2 * i + 1 == len(puzzle.moves):
            return True, board
        board.push(Move.from_uci(puzzle.moves[2 * i + 1]))
    return None, board


def puzzle_of(record: dict) -> Puzzle:
    """A puzzle from one JSON object of a puzzle file (``themes`` computed when left out)."""
    fen, moves = record["fen"], record["moves"]
    return Puzzle(id=record["id"], fen=fen, moves=moves,
                  themes=record["themes"] if "themes" in record else themes(fen, moves),
                  source=record.get("source", ""))


@cache
def _load(path: str) -> tuple[Puzzle, ...]:
    puzzles = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                puzzles.append(puzzle_of(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise ValueError(f"{path}, line {number}: not a puzzle ({type(e).__name__}: {e})") from e
    if not puzzles:
        raise ValueError(f"no puzzle in {path}")
    return tuple(puzzles)


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


__all__ = ["Puzzle", "Rating", "SHIPPED_PUZZLES", "glicko2_update", "is_sacrifice", "load_puzzles",
           "play_attempt", "puzzle_of", "rate_attempt", "themes"]
