"""Mates by checks: a forced-mate search in which the attacker only gives check.

Most forced mates in xiangqi are strings of checks (chariots, horses and cannons taking turns), and
a search that gives only checks and answers with every evasion stays small: a few checks a
position, a few evasions each. :func:`checking_mate` finds such a mate for the side to move (the
tree search plays it at once); :func:`moves_allowing_mate` finds the moves after which the
opponent has one (the tree search leaves them out of its root, where a few hundred playouts
would not see a quiet move's refutation six plies on). A position in check with no legal move is
lost. Repetition is not judged: a shortest mate has no cycle in it. Like :mod:`play.tactics` it
walks the board's fast path (:meth:`Board.legal_move_codes`, :meth:`Board.make_code`).

>>> board = Board("3k5/9/9/9/9/9/9/9/4A4/RR2K4 w - - 0 1")  # the two chariots take turns
>>> [m.uci() for m in checking_mate(board, 3)]
['a0a9', 'd9d8', 'b0b8', 'd8d7', 'a9a7']
"""

from __future__ import annotations

from xiangqi import Board, Move

from .tactics import NodeBudgetExceeded


class _MateSearch:
    def __init__(self, board: Board, max_nodes: int | None) -> None:
        self.board = board
        self.nodes = 0
        self.max_nodes = max_nodes

    def _visit(self) -> None:
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise NodeBudgetExceeded

    def _checks(self) -> list[int]:
        board = self.board
        checks = []
        for m in board.legal_move_codes():
            board.make_code(m)
            if board.is_check():
                checks.append(m)
            board.unmake_code()
        return checks

    def mating_check(self, moves: int) -> int | None:
        """A check of the side to move that mates within ``moves`` moves whatever the defence."""
        self._visit()
        board = self.board
        for m in self._checks():
            board.make_code(m)
            mated = self.is_mated(moves)
            board.unmake_code()
            if mated:
                return m
        return None

    def is_mated(self, moves: int) -> bool:
        """Whether the side to move, in check, is mated within ``moves`` of the attacker's moves,
        the check just given counting as the first."""
        self._visit()
        board = self.board
        evasions = board.legal_move_codes()
        if not evasions:
            return True
        if moves <= 1:
            return False
        for m in evasions:
            board.make_code(m)
            mate = self.mating_check(moves - 1)
            board.unmake_code()
            if mate is None:
                return False
        return True


def checking_mate(board: Board, moves: int, max_nodes: int | None = None) -> list[Move] | None:
    """The shortest forced mate of the side to move, within ``moves`` moves, in which every move
    of the attacker is a check: its line (the defender's replies as they come first), or ``None``.
    Raises :class:`~play.tactics.NodeBudgetExceeded` beyond ``max_nodes`` positions."""
    board = board.copy()  # a search stopped by the budget leaves its moves on the board
    searcher = _MateSearch(board, max_nodes)
    for depth in range(1, moves + 1):
        first = searcher.mating_check(depth)
        if first is not None:
            return _line(board, first, depth)
    return None


def _line(board: Board, first: int, depth: int) -> list[Move]:
    """A mating line from ``first``: each defence the first legal one, each check one that mates."""
    line: list[int] = []
    searcher = _MateSearch(board, None)
    m: int | None = first
    while m is not None:
        line.append(m)
        board.make_code(m)
        evasions = board.legal_move_codes()
        if not evasions:
            break
        depth -= 1
        line.append(evasions[0])
        board.make_code(evasions[0])
        m = searcher.mating_check(depth)
    for _ in line:
        board.unmake_code()
    return [Move.from_code(m) for m in line]


def moves_allowing_mate(board: Board, moves: list[Move], mate_moves: int, max_nodes: int) -> set[Move]:
    """Those of ``moves`` (legal) after which the opponent has a forced mate by checks within
    ``mate_moves`` moves. The search stops after ``max_nodes`` positions in all, keeping what it
    proved so far."""
    board = board.copy()
    searcher = _MateSearch(board, max_nodes)
    allowing: set[Move] = set()
    try:
        for move in moves:
            board.make_code(move.code)
            if searcher.mating_check(mate_moves) is not None:
                allowing.add(move)
            board.unmake_code()
    except NodeBudgetExceeded:
        pass
    return allowing
