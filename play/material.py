"""Material: the piece values and the 2-ply material judge that the playing levels and the
searches build on.

:func:`verdict_of` searches one move two plies deep (game end, a mate in one against the mover,
the best capture back); :func:`unsafe_moves` is the set of moves it finds less safe than the
safest; :func:`capture_gain` is what the side to move wins with one capture (the tree search's
leaves, :mod:`play.search`); :func:`lead` is a side's material lead.

>>> board = Board("4k4/9/9/9/9/9/9/9/4r4/3K5 w - - 0 1")
>>> lead(board, board.turn), capture_gain(board)
(-9.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from xiangqi import Board, Color, Move
from xiangqi.base import PIECE_VALUES

MATE = 1000.0
"""A won game, above any material: :attr:`Verdict.balance` for a win, and the mate score of
:mod:`play.tactics` (less the plies to it)."""


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
