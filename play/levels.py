"""Playing levels: how the model's move probabilities become a move.

The gentle levels sample from the model; ``club`` plays its most likely move; ``master`` checks
the model's top candidates (and every capture) with a 2-ply search in the rules engine. It plays
a mate in one when it sees one (or a move after which every reply loses by perpetual check or
chase); it avoids moves that allow a mate in one, lose by perpetual check or chase or lose
material to an immediate capture, unless every move does; among equal moves it takes free
material (a pawn or more), avoids repeating positions unless it is behind, and when it leads
but nothing was captured for 10 moves it prefers the moves that leave the fewest replies (mate
and stalemate leave none); after that it follows the model. ``expert`` searches: PUCT over the
model's priors and the value net (:mod:`play.search`) for at most :data:`THINKING_MS` a move, in
the game's own :class:`~play.search.Search`. The 2-ply check is :mod:`play.material`'s.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from model.sampling import sample_move
from xiangqi import Board, Move

from .material import lead, verdict_of
from .search import Limits, Search

if TYPE_CHECKING:
    from model.policy import Policy

LEVELS: dict[str, str] = {
    "beginner": "samples the model's moves at temperature 1.0: often plays odd moves",
    "casual": "samples among the model's 4 best moves at temperature 0.5",
    "club": "always plays the model's most likely move",
    "master": "the model's best candidates checked by a 2-ply search: no hanging pieces, no mate in one",
    "expert": "searches the model's moves with the value net (PUCT tree search), up to 1 s a move",
}
DEFAULT_LEVEL = "master"
THINKING_MS: dict[str, int] = {"expert": 1000}
"""The longest a level thinks about a move, in milliseconds: the levels that search (the others
answer at once)."""
PUZZLE_DEFENDER_LEVEL = "expert"
"""The level that answers a puzzle's move off the verified line (the server's puzzles and
``xqgpt puzzle``): the search, the longest defence it finds."""

MASTER_CANDIDATES = 6
SQUEEZE_LEAD = 2.0
SQUEEZE_AFTER = 20


class UnknownLevel(ValueError):
    """A level name that :data:`LEVELS` does not define."""


def check_level(level: str | None) -> str:
    """``level`` if it is a key of :data:`LEVELS`, :data:`DEFAULT_LEVEL` if it is ``None``;
    raises :class:`UnknownLevel` otherwise."""
    if level is None:
        return DEFAULT_LEVEL
    if level not in LEVELS:
        raise UnknownLevel(f"unknown level {level!r}; choose one of: {', '.join(LEVELS)}")
    return level


def choose_move(policy: Policy, board: Board, level: str = DEFAULT_LEVEL,
                rng: random.Random | None = None, search: Search | None = None) -> Move:
    """The move ``policy`` plays at ``level`` (a key of :data:`LEVELS`) in a position with legal moves.

    ``rng`` drives the sampling levels (default: a fresh unseeded generator). A level that
    searches (:data:`THINKING_MS`) searches with ``search``, the game's own (its tree carries over
    between the game's moves; it reads its own networks' policy); ``ValueError`` without one.
    """
    check_level(level)
    rng = rng or random.Random()
    if level == "beginner":
        return sample_move(policy, board, temperature=1.0, rng=rng)
    if level == "casual":
        return sample_move(policy, board, temperature=0.5, top_k=4, rng=rng)
    if level == "club":
        return sample_move(policy, board)
    if level in THINKING_MS:
        if search is None:
            raise ValueError(f"the {level} level searches: give choose_move the game's Search")
        return search.run(board, Limits(movetime=THINKING_MS[level])).best
    return safe_move(board, policy.candidates(board))


def safe_move(board: Board, candidates: list[tuple[Move, float]], k: int = MASTER_CANDIDATES) -> Move:
    """The best of the ``k`` first candidates and every capture by :meth:`Verdict.key`.

    When none of them is safe (no mate in one against us, no material lost, no repetition while
    not behind) the other legal moves are searched too. When we lead by ``SQUEEZE_LEAD`` and
    ``SQUEEZE_AFTER`` plies have gone without a capture, every move is searched and the safe move
    that leaves the fewest replies wins (mate and stalemate leave none), so that a won game ends
    before the move limit.
    """
    squeeze = board.halfmove_clock >= SQUEEZE_AFTER and lead(board, board.turn) >= SQUEEZE_LEAD
    searched = [squeeze or i < k or board.is_capture(m) for i, (m, _) in enumerate(candidates)]
    first = [c for c, s in zip(candidates, searched, strict=True) if s]
    rest = [c for c, s in zip(candidates, searched, strict=True) if not s]
    verdicts = [verdict_of(board, m, p) for m, p in first]
    if not any(v.balance >= 0 and not v.allows_mate and not v.repeats for v in verdicts):
        verdicts += [verdict_of(board, m, p) for m, p in rest]
    return max(verdicts, key=lambda v: v.key(squeeze)).move


