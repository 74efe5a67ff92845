"""Perpetual chase under the Asian (AXF) rules: what a move chases, and who breaks the rule in a cycle.

A move **chases** an enemy piece when it creates a new threat to win it on the next move. In the
position after the move, a threat is a pair (attacker, target) where the attacker, which is not
a general or a soldier (generals and soldiers may chase), has a legal capture of the target, which
is not the general (that is check) or a soldier still on its own side of the river, and either

* the target is a chariot attacked by a horse or a cannon, or a chariot, horse or cannon attacked
  by an advisor or an elephant (a stronger piece: a threat whether protected or not), or
* the target is unprotected (after the capture its side has no legal recapture, so a pinned
  protector does not count) and, when attacker and target are of the same type, the target
  cannot legally capture the attacker in return (a mutual attack is an offer to exchange).

"Legal" here sets aside a check the side is already in, as the engines do: a check does not
make every piece of the checked side unprotected.

The move chases the targets of the threats that exist after it but not before it, with pieces
followed as they move (so a move that takes away a piece's protection chases it too).

In a repetition cycle a side that checks with every move loses (perpetual check; both: draw).
Otherwise a side that chases one and the same enemy piece with every one of its moves
perpetually chases and loses; if both sides do, or neither, the game is drawn. Chasing different
pieces in turn is allowed, and so is one check and one chase (AXF rule 12): a check chases only
what the checking move also attacks.

Sources: the AXF rules in the WXF's English translation (www.wxf.org/xq/rule/asia/, rules 6-8,
12, 15, 18, 24, 28, 32 and 36 with their diagrams); the repetition code of Pikafish and
Fairy-Stockfish, read for the engines' reading of it. ``docs/chase.md`` gives the details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .base import (
    ADVISOR,
    BLACK,
    CANNON,
    CHARIOT,
    ELEPHANT,
    GENERAL,
    HORSE,
    HORSE_ATTACKERS,
    PAWN_ATTACKERS,
    RED,
    ROOK_RAYS,
    SOLDIER,
    Color,
    Move,
    Square,
)

if TYPE_CHECKING:
    from .core import Board

# Targets an attacker threatens whether they are protected or not.
_STRONGER = {HORSE: {CHARIOT}, CANNON: {CHARIOT},
             ADVISOR: {CHARIOT, HORSE, CANNON}, ELEPHANT: {CHARIOT, HORSE, CANNON}}


def _attackers(b: list[int], sq: Square, by: Color) -> set[Square]:
    """Squares of the pieces of ``by`` that attack ``sq`` (the general along an open file too)."""
    sign = 1 if by == RED else -1
    out = set()
    for d, ray in enumerate(ROOK_RAYS[sq]):
        screen = False
        for s in ray:
            c = b[s] * sign
            if b[s] == 0:
                continue
            if screen:
                if c == CANNON:
                    out.add(s)
                break
            if c == CHARIOT or (c == GENERAL and d >= 2):
                out.add(s)
            screen = True
    out.update(frm for frm, leg in HORSE_ATTACKERS[sq] if b[frm] * sign == HORSE and b[leg] == 0)
    out.update(frm for frm in PAWN_ATTACKERS[by][sq] if b[frm] * sign == SOLDIER)
    return out


def _checkers(board: Board, color: Color) -> set[Square]:
    return _attackers(board._board, board._kings[color], not color)


def _legal(board: Board, m: int, checkers: set[Square]) -> bool:
    """Whether pseudo-legal ``m`` of the piece's side leaves its general safe from every piece
    but ``checkers`` (the pieces already giving check, set aside)."""
    b = board._board
    frm, to = divmod(m, 90)
    moved, captured = b[frm], b[to]
    color = moved > 0
    b[to], b[frm] = moved, 0
    king = to if moved == (GENERAL if color == RED else -GENERAL) else board._kings[color]
    attackers = _attackers(b, king, not color)
    b[frm], b[to] = moved, captured
    return not (attackers - checkers if king != to else attackers)


def threats(board: Board, side: Color) -> set[tuple[Square, Square]]:
    """The (attacker, target) squares of every chase threat ``side`` makes in the position."""
    b = board._board
    sign = 1 if side == RED else -1
    ours, theirs = _checkers(board, side), _checkers(board, not side)
    out: set[tuple[Square, Square]] = set()
    for frm, code in enumerate(b):
        attacker = code * sign
        if attacker <= 0 or attacker in (GENERAL, SOLDIER):
            continue
        moves: list[int] = []
        board._piece_moves(frm, moves)
        for m in moves:
            to = m % 90
            target = -b[to] * sign
            if target <= 0 or target == GENERAL or (target == SOLDIER and _at_home(to, not side)):
                continue
            if not _legal(board, m, ours):
                continue
            if target in _STRONGER.get(attacker, ()):
                out.add((frm, to))
            elif not _protected(board, m, theirs) and not (
                    target == attacker and _legal_capture(board, to, frm, theirs)):
                out.add((frm, to))
    return out


def _at_home(sq: Square, color: Color) -> bool:
    """Whether a soldier of ``color`` on ``sq`` has not crossed the river."""
    return sq // 9 <= 4 if color == RED else sq // 9 >= 5


def _protected(board: Board, m: int, checkers: set[Square]) -> bool:
    """Whether capture ``m`` can be answered by a legal recapture on the target square."""
    to = m % 90
    board.make_code(m)
    try:
        red = board._board[to] < 0  # the recapturing side
        return any(code != 0 and (code > 0) == red and _legal_capture(board, frm, to, checkers)
                   for frm, code in enumerate(board._board))
    finally:
        board.unmake_code()


def _legal_capture(board: Board, frm: Square, to: Square, checkers: set[Square]) -> bool:
    """Whether the piece on ``frm`` may capture on ``to``, setting ``checkers`` aside."""
    moves: list[int] = []
    board._piece_moves(frm, moves)
    m = frm * 90 + to
    return m in moves and _legal(board, m, checkers)


def chased(board: Board, move: Move) -> set[Square]:
    """The squares of the enemy pieces that ``move`` (legal on ``board``) chases, after the move.

    ``board`` is left unchanged."""
    side = board.turn
    before = threats(board, side)
    board.push(move)
    try:
        after = threats(board, side)
    finally:
        board.pop()
    return _new_targets(before, after, move)


def _new_targets(before: set[tuple[Square, Square]], after: set[tuple[Square, Square]],
                 move: Move) -> set[Square]:
    """The targets of the threats in ``after`` that ``before`` (the threats before ``move``) lacks."""
    moved = {(move.to_square if a == move.from_square else a, t) for a, t in before}
    return {t for a, t in after - moved}


@dataclass(frozen=True)
class CycleVerdict:
    """Who broke the repetition rules in a cycle of moves."""

    perpetual_check: dict[Color, bool]
    chase: dict[Color, set[Square]]  # the pieces a side chased with every move, where they are now


def judge_cycle(board: Board, start: int) -> CycleVerdict:
    """Judge the moves of ``board.move_stack`` from index ``start`` on (a repetition cycle).

    ``chase[side]`` holds the squares (in the current position) of the enemy pieces that every
    move of ``side`` chased: empty when one of its moves did not chase them, and when all of its
    moves were checks (that is perpetual check).
    """
    moves = board.move_stack[start:]
    replay = board.copy()
    for _ in moves:
        replay.pop()
    checks = {RED: True, BLACK: True}
    common: dict[Color, set[Square] | None] = {RED: None, BLACK: None}
    known: dict[tuple[int, Color], set[tuple[Square, Square]]] = {}  # a cycle repeats its positions

    def threats_now(side: Color) -> set[tuple[Square, Square]]:
        key = (replay.zobrist_hash(), side)
        if key not in known:
            known[key] = threats(replay, side)
        return known[key]

    for move in moves:
        side = replay.turn
        before = threats_now(side)
        replay.push(move)
        victims = _new_targets(before, threats_now(side), move)
        common[side] = victims if common[side] is None else common[side] & victims
        checks[side] = checks[side] and replay.is_check()
        for color in (RED, BLACK):  # follow the chased pieces as they move
            squares = common[color]
            if squares and move.from_square in squares:
                squares.discard(move.from_square)
                squares.add(move.to_square)
    chase = {c: (common[c] or set()) if not checks[c] else set() for c in (RED, BLACK)}
    return CycleVerdict(checks, chase)
