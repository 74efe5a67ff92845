"""Tactics: a material alpha-beta search with quiescence, to check the tree search's root moves.

A few hundred playouts of :mod:`play.search` miss quiet refutations a few plies deep (a fork, a
discovered attack, a piece that falls two moves on), and the 2-ply check of
:func:`play.material.unsafe_moves` sees only the immediate capture. :func:`tactical_scores`
searches every root move ``depth`` plies further, all moves, then captures only (every evasion
when in check) until the position is quiet, and scores material (:data:`play.material.PIECE_VALUES`)
for the side to move at the root; no legal move loses (checkmate and stalemate), sooner worse.
The rules of repetition are not applied: this judges material, the tree judges the rest.
For speed it walks the board's fast path (:meth:`Board.legal_move_codes`,
:meth:`Board.legal_capture_codes`, :meth:`Board.make_code`), without the history that
:meth:`Board.push` keeps (about 65,000 positions a second on the development machine, one
timing run).

>>> board = Board("9/4ak3/4br3/p8/9/2P2np2/P4p3/B6R1/3r5/4K4 b - - 5 58")
>>> tactical_scores(board, board.legal_moves, depth=1)[Move.from_uci("e8f9")]  # Red mates: h2h8
-998.0
"""

from __future__ import annotations

from collections.abc import Callable

from xiangqi import Board, Move

from .material import MATE, PIECE_VALUES, lead

_VALUE = [0.0] * 8  # by piece type (the absolute piece code)
for _type, _value in PIECE_VALUES.items():
    _VALUE[_type] = _value
_EPSILON = 1e-6
QUIESCENCE_PLIES = 8  # captures and evasions followed at most this deep beyond the full-width plies


class NodeBudgetExceeded(Exception):
    """The search visited more positions than its budget."""


class _Searcher:
    def __init__(self, board: Board, max_nodes: int | None) -> None:
        self.board = board
        self.code_at = board.piece_code_at
        self.nodes = 0
        self.max_nodes = max_nodes
        self.killers: dict[int, list[int]] = {}  # by ply: the last two quiet moves that caused a cutoff

    def _visit(self) -> None:
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise NodeBudgetExceeded

    def _ordered(self, moves: list[int], ply: int) -> list[int]:
        """Captures first, the most valuable victim by the least valuable attacker, then the
        quiet moves that refuted a sibling (killer moves), then the rest."""
        code_at = self.code_at
        killers = self.killers.get(ply, ())

        def key(m: int) -> float:
            victim = code_at(m % 90)
            if victim:
                return _VALUE[abs(code_at(m // 90))] - 10 * _VALUE[abs(victim)]
            return 99.0 if m in killers else 100.0

        return sorted(moves, key=key)

    def quiesce(self, alpha: float, beta: float, material: float, plies: int, ply: int) -> float:
        """Captures only (all evasions in check), standing pat on ``material`` when not in check,
        at most ``plies`` deep (a checkmate found at the last ply still counts)."""
        self._visit()
        board = self.board
        if board.is_check():
            moves = board.legal_move_codes()
            if not moves:
                return -MATE + ply
            if plies == 0:  # checks and counter-checks may go on for ever: stop here too
                return material
            best = -MATE + ply
        else:
            if material >= beta or plies == 0:
                return material
            best, alpha = material, max(alpha, material)
            moves = board.legal_capture_codes()
        return self._best(moves, best, alpha, beta, material, ply,
                          lambda a, b, mat: self.quiesce(a, b, mat, plies - 1, ply + 1))

    def negamax(self, depth: int, alpha: float, beta: float, material: float, ply: int) -> float:
        """Every move ``depth`` plies deep, then :meth:`quiesce`."""
        if depth <= 0:
            return self.quiesce(alpha, beta, material, QUIESCENCE_PLIES, ply)
        self._visit()
        moves = self.board.legal_move_codes()
        if not moves:
            return -MATE + ply
        return self._best(moves, -MATE, alpha, beta, material, ply,
                          lambda a, b, mat: self.negamax(depth - 1, a, b, mat, ply + 1))

    def _best(self, moves: list[int], best: float, alpha: float, beta: float, material: float, ply: int,
              child: Callable[[float, float, float], float]) -> float:
        """The best of ``best`` and the scores of ``moves`` (fail-soft alpha-beta), each scored
        by ``child(alpha, beta, material)`` for the side to move after it."""
        board, code_at = self.board, self.code_at
        for m in self._ordered(moves, ply):
            gain = _VALUE[abs(code_at(m % 90))]
            board.make_code(m)
            score = -child(-beta, -alpha, -(material + gain))
            board.unmake_code()
            if score > best:
                best = score
                if score > alpha:
                    alpha = score
                    if score >= beta:
                        if not gain:
                            killers = self.killers.setdefault(ply, [])
                            if m not in killers:
                                killers[:] = [m, *killers[:1]]
                        break
        return best


def tactical_scores(board: Board, moves: list[Move], depth: int, margin: float = 0.0,
                    max_nodes: int | None = None) -> dict[Move, float]:
    """The material balance (soldiers, for the side to move) after each of ``moves`` (legal) and
    ``depth`` more plies and the captures that follow. Scores within ``margin`` of the best are
    exact; below that a score is an upper bound (the search proves only that the move is worse).
    Raises :class:`NodeBudgetExceeded` beyond ``max_nodes`` positions."""
    board = board.copy()  # a search stopped by the budget leaves its moves on the board
    searcher = _Searcher(board, max_nodes)
    material = lead(board, board.turn)
    best, scores = None, {}
    for move in moves:
        child_material = -(material + _VALUE[abs(board.piece_code_at(move.to_square))])
        board.make_code(move.code)
        if best is None:  # the first move (the best of a shallower search, as ordered): exact
            score = -searcher.negamax(depth, -MATE - 1, MATE + 1, child_material, 1)
        else:
            # a window from just below best - margin (a refutation found proves the move worse
            # than that) to just above best (a move found better is searched again, upwards)
            score = -searcher.negamax(depth, -best - _EPSILON, margin - best + _EPSILON, child_material, 1)
            if score >= best + _EPSILON:
                score = -searcher.negamax(depth, -MATE - 1, -best, child_material, 1)
        board.unmake_code()
        scores[move] = score
        best = score if best is None else max(best, score)
    return scores


def tactically_unsafe(board: Board, depth: int, margin: float, max_nodes: int) -> set[Move]:
    """The legal moves that lose more than ``margin`` soldiers of material beyond the best move
    within ``depth`` more plies (:func:`tactical_scores`), from the deepest search that fits in
    ``max_nodes`` positions (depth 1 first; none when not even that fits)."""
    moves = board.legal_moves
    unsafe: set[Move] = set()
    for d in range(1, depth + 1):
        try:
            scores = tactical_scores(board, moves, d, margin, max_nodes)
        except NodeBudgetExceeded:
            break
        best = max(scores.values())
        unsafe = {m for m, s in scores.items() if s < best - margin}
        moves = sorted(moves, key=scores.__getitem__, reverse=True)  # the best first: narrow windows sooner
    return unsafe
