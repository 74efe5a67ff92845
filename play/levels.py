"""Playing levels: how the model's move probabilities become a move.

The gentle levels sample from the model; ``club`` plays its most likely move; ``master`` checks
the model's top candidates (and every capture) with a 2-ply search in the rules engine. It plays
a mate in one when it sees one (or a move after which every reply loses by perpetual check or
chase); it avoids moves that allow a mate in one, lose by perpetual check or chase or lose
material to an immediate capture, unless every move does; among equal moves it takes free
material (a pawn or more), avoids repeating positions unless it is behind, and when it leads
but nothing was captured for 10 moves it prefers the moves that leave the fewest replies (mate
and stalemate leave none); after that it follows the model. ``expert`` searches: PUCT over the
model's priors and the value net (:mod:`play.search`) for at most :data:`THINKING_SECONDS` a move.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model.sampling import sample_move
from xiangqi import ADVISOR, CANNON, CHARIOT, ELEPHANT, GENERAL, HORSE, SOLDIER, Board, Color, Move, PieceType

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
THINKING_SECONDS: dict[str, float] = {"expert": 1.0}
"""The longest a level thinks about a move (levels not named answer at once)."""

PIECE_VALUES: dict[PieceType, float] = {
    GENERAL: 0.0, CHARIOT: 9.0, CANNON: 4.5, HORSE: 4.0, ADVISOR: 2.0, ELEPHANT: 2.0, SOLDIER: 1.0,
}
MASTER_CANDIDATES = 6
SQUEEZE_LEAD = 2.0
SQUEEZE_AFTER = 20
MATE = 1000.0


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
                rng: random.Random | None = None) -> Move:
    """The move ``policy`` plays at ``level`` (a key of :data:`LEVELS`) in a position with legal moves.

    ``rng`` drives the sampling levels (default: a fresh unseeded generator).
    """
    check_level(level)
    rng = rng or random.Random()
    if level == "beginner":
        return sample_move(policy, board, temperature=1.0, rng=rng)
    if level == "casual":
        return sample_move(policy, board, temperature=0.5, top_k=4, rng=rng)
    if level == "club":
        return sample_move(policy, board)
    if level in THINKING_SECONDS:
        from .search import Limits, search_for

        return search_for(policy).run(board, Limits(movetime=THINKING_SECONDS[level])).best
    return safe_move(board, policy.candidates(board))


@dataclass(frozen=True)
class Verdict:
    """What the shallow search found for one move."""

    move: Move
    prob: float
    balance: float  # material won minus material the opponent wins back at once; MATE for a win
    allows_mate: bool  # the opponent mates (or wins by the rules) on the next move
    repeats: bool = False  # we or the reply return to an earlier position while we are not behind
    replies: int = 0  # the opponent's legal replies

    def key(self, squeeze: bool = False) -> tuple[bool, float, bool, int, float]:
        """Sort key, best last: no mate against us, material won (a pawn or more) or lost, no
        repetition, fewest replies when squeezing, then the model's probability."""
        material = self.balance if self.balance < 0 or self.balance >= 1 else 0.0
        return (not self.allows_mate, material, not self.repeats, -self.replies if squeeze else 0, self.prob)


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


def unsafe_moves(board: Board, margin: float = 0.0) -> set[Move]:
    """The legal moves that the 2-ply check (:func:`verdict_of`) finds less safe than the safest:
    they allow a mate in one (or a loss by the rules) while another move does not, or they lose
    more than ``margin`` soldiers more material to an immediate capture than another move does."""
    verdicts = [verdict_of(board, m) for m in board.legal_moves]

    def safety(v: Verdict) -> tuple[bool, float]:  # Verdict.key's first two terms, gains counted as none
        no_mate, material = v.key()[:2]
        return no_mate, min(material, 0.0)

    no_mate, material = max((safety(v) for v in verdicts), default=(True, 0.0))
    return {v.move for v in verdicts if safety(v) < (no_mate, material - margin)}


def verdict_of(board: Board, move: Move, prob: float = 0.0) -> Verdict:
    """Search ``move`` two plies deep: game end, mate in one against us, the best capture back."""
    us = board.turn
    victim = board.piece_at(move.to_square)
    gain = PIECE_VALUES[victim.piece_type] if victim else 0.0
    board.push(move)
    try:
        outcome = board.outcome()
        if outcome is not None:
            if outcome.winner == us:
                return Verdict(move, prob, MATE, False)
            return Verdict(move, prob, gain, outcome.winner is not None, lead(board, us) >= 0)
        avoid_draws = lead(board, us) >= 0
        repeats = avoid_draws and board.repetition_count() > 1
        allows_mate, loss, losing_replies = False, 0.0, 0
        replies = board.legal_moves
        for reply in replies:
            target = board.piece_at(reply.to_square)
            value = PIECE_VALUES[target.piece_type] if target else 0.0
            attacker = board.piece_at(reply.from_square)
            board.push(reply)
            repetitions = board.repetition_count()
            repeats = repeats or (avoid_draws and repetitions > 1)
            if repetitions >= board.repetitions:  # perpetual check or chase loses
                winner = board.outcome().winner
                allows_mate = allows_mate or winner == (not us)
                losing_replies += winner == us
            answers = board.legal_moves if value > loss or board.is_check() else None
            board.pop()
            if answers is None:
                continue
            if not answers:
                allows_mate = True
            if value > loss:
                recaptures = any(m.to_square == reply.to_square for m in answers)
                won_back = PIECE_VALUES[attacker.piece_type] if recaptures and attacker else 0.0
                loss = max(loss, value - won_back)
        if replies and losing_replies == len(replies):  # the opponent's forced loss by the rules
            return Verdict(move, prob, MATE, False)
        return Verdict(move, prob, gain - loss, allows_mate, repeats, len(replies))
    finally:
        board.pop()


def capture_gain(board: Board) -> float:
    """The most material the side to move wins with one capture: the captured piece's value, less
    the capturing piece's when the opponent can take back on that square (pins count); 0 when no
    capture gains. A one-move exchange, for the search's leaves (:mod:`play.search`)."""
    best = 0.0
    for move in board.legal_moves:
        victim = board.piece_at(move.to_square)
        if victim is None or PIECE_VALUES[victim.piece_type] <= best:
            continue
        gain = PIECE_VALUES[victim.piece_type]
        board.push(move)
        if any(reply.to_square == move.to_square for reply in board.legal_moves):
            gain -= PIECE_VALUES[board.piece_at(move.to_square).piece_type]
        board.pop()
        best = max(best, gain)
    return best


def lead(board: Board, color: Color) -> float:
    """Material of ``color`` minus its opponent's."""
    return sum(PIECE_VALUES[p.piece_type] * (1 if p.color == color else -1) for _, p in board.squares())
