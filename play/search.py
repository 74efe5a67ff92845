"""Search: PUCT Monte Carlo tree search over the policy's priors and the value net (as AlphaZero
and Leela Chess Zero do), with the rules of :mod:`xiangqi` inside the tree.

Each playout walks from the root to a leaf by PUCT, ``Q + c * P * sqrt(N) / (1 + n)``; leaves
are gathered in batches (up to :attr:`SearchConfig.batch`, with a virtual loss on the paths
already taken so that one batch spreads over the tree) and evaluated together: the value net
gives their win/draw/loss for the side to move (its material blend counting what the side to
move wins with one capture, :func:`play.material.capture_gain`, so that a leaf in the middle of an
exchange is not judged as if the exchange were over), the policy
(:meth:`~model.policy.Policy.candidates_many`, a window of the last positions) the priors of
their moves. The root's priors come from the policy with the whole game
(:meth:`~model.policy.Policy.candidates`).

Positions that end the game are exact: no legal move loses (checkmate and stalemate), and inside
the tree a position that repeats once is judged by :meth:`Board.outcome` as a finished cycle
(perpetual check or chase loses, else a draw), so the search neither loops nor walks into a
lost repetition; the move limit draws. Exact results are propagated up the tree (a move to a
position lost for the opponent wins; a position whose moves all lose is lost), so a forced mate
the tree holds is proven, played by its shortest line and reported as ``mate N``.

Before the playouts the root looks for a forced mate by checks (:mod:`play.mates`), proving the
move that starts it, and else drops the moves that allow the opponent a mate by checks, then
those that lose material (:meth:`Search._drop_unsafe`): the 2-ply check of
:func:`play.material.unsafe_moves` and the material search of :mod:`play.tactics` a few plies
deeper. Their time counts against ``movetime``.

A :class:`Search` is one game's: its tree is kept between that game's moves (when the next
position extends the last one's moves, its subtree becomes the new root), and one search runs
at a time. The networks are not the game's: :class:`Networks` holds them for the searches of
any number of games, and the leaf evaluations of searches running in concurrent threads share
forward passes (the policy's after :meth:`~model.policy.Policy.batch_calls`, the value net's with
``Networks(..., batch_values=True)``).

>>> from model.policy import Policy
>>> networks = Networks(Policy.load(), value_net_for(None)[0])
>>> result = Search(networks).run(Board(), Limits(nodes=64))
>>> result.best in Board().legal_moves, result.nodes
(True, 64)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.batching import Batcher
from model.value import cp_from_win_probability
from xiangqi import Board, Move

from .material import capture_gain, unsafe_moves
from .mates import checking_mate, moves_allowing_mate
from .tactics import NodeBudgetExceeded, tactically_unsafe

if TYPE_CHECKING:
    from model.policy import Policy
    from model.value import ValueNet

# The value of a proven result for the side that made the move into a node.
WIN, DRAW, LOSS = 1, 0, -1


@dataclass
class SearchConfig:
    """How the search weighs priors against values."""

    cpuct: float = 1.5        # exploration constant of PUCT
    fpu: float = 0.3          # an unvisited move's Q: the parent's Q minus fpu * sqrt(visited prior mass)
    batch: int = 16           # leaves evaluated together
    history: int = 2          # positions of the game the policy reads at a leaf
    light_leaves: bool = True  # leaves read Policy.light() (a quarter of the cost), the root the full policy
    safe_root: bool = True    # leave out the root moves play.material.unsafe_moves flags (checks excepted)
    safe_margin: float = 2.0  # material (soldiers) a root move may lose beyond the safest and stay
    tactics_plies: int = 2    # plies play.tactics searches beyond each root move (0: the 2-ply check only)
    tactics_nodes: int = 20_000  # positions play.tactics may visit (it falls back to a shallower depth)
    mate_moves: int = 5       # moves of a mate by checks (play.mates) the root plays or avoids (0: off)
    mate_nodes: int = 5_000   # positions each of the two mate searches may visit
    exchange: float = 1.0     # weight of a leaf's capture gain (play.material.capture_gain) in its material
    policy_temperature: float = 1.0


@dataclass
class Limits:
    """When to stop: the first budget reached; with none, and not ``infinite``,
    :data:`DEFAULT_NODES` playouts.

    ``nodes`` counts playouts, ``movetime`` is in milliseconds (as in :class:`xiangqi.engine.Limit`
    and UCI's ``go movetime``), and ``mean_depth`` is the mean length in plies of the playouts'
    paths from the root, the depth that :class:`SearchResult` and a UCI ``info depth`` report (a
    tree search has no fixed depth: its paths grow where the playouts go)."""

    nodes: int | None = None
    movetime: float | None = None
    mean_depth: int | None = None
    infinite: bool = False


DEFAULT_NODES = 800


class Node:
    """A position in the tree, reached by ``move``; statistics from the view of the side that
    made ``move`` (the side to move at the parent)."""

    __slots__ = ("move", "prior", "parent", "children", "n", "w", "d", "l", "virtual", "result", "plies")

    def __init__(self, move: Move | None, prior: float, parent: Node | None) -> None:
        self.move = move
        self.prior = prior
        self.parent = parent
        self.children: list[Node] | None = None  # None until expanded; [] for a finished game
        self.n = 0          # playouts through this node
        self.w = self.d = self.l = 0.0  # summed win, draw, loss probabilities of the mover
        self.virtual = 0    # playouts in flight (virtual losses)
        self.result: int | None = None  # proven WIN, DRAW or LOSS for the mover
        self.plies = 0      # plies to the end of the game when proven

    def q(self) -> float:
        """Mean value for the mover in -1..1 (virtual losses included)."""
        if self.result is not None:
            return float(self.result)
        n = self.n + self.virtual
        return (self.w - self.l - self.virtual) / n if n else 0.0

    def wdl(self) -> tuple[float, float, float]:
        """Mean win, draw, loss probabilities of the mover."""
        if self.result is not None:
            return _exact_wdl(self.result)
        if not self.n:
            return (0.0, 1.0, 0.0)
        return (self.w / self.n, self.d / self.n, self.l / self.n)

    def add(self, win: float, draw: float, loss: float) -> None:
        self.n += 1
        self.w += win
        self.d += draw
        self.l += loss


@dataclass
class PvLine:
    """One root move and its principal variation, for ``info``: score for the side to move at the
    root."""

    move: Move
    pv: list[Move]
    visits: int
    wdl: tuple[float, float, float]
    mate: int | None  # moves to mate: positive when the side to move mates, negative when mated

    @property
    def score(self) -> str:
        """``mate N`` or ``cp X`` (the expected score through :func:`cp_from_win_probability`)."""
        if self.mate is not None:
            return f"mate {self.mate}"
        return f"cp {round(cp_from_win_probability(self.wdl[0] + self.wdl[1] / 2))}"


@dataclass
class SearchResult:
    """What a search found: the move to play and the best lines, best first."""

    best: Move
    lines: list[PvLine]
    nodes: int
    seconds: float
    depth: int     # the playouts' mean depth (see Limits.mean_depth)
    seldepth: int  # the longest playout

    @property
    def nps(self) -> int:
        return int(self.nodes / self.seconds) if self.seconds > 0 else 0


@dataclass
class _Stats:
    playouts: int = 0
    depth_sum: int = 0
    seldepth: int = 0
    started: float = field(default_factory=time.monotonic)


class Networks:
    """The networks that searches read, shared by the searches of any number of games: ``policy``
    for the root's priors, its light form (:meth:`~model.policy.Policy.light`, made once) for the
    leaves' and ``value`` for the leaves' win, draw and loss. With ``batch_values`` the value net's
    evaluations of searches in concurrent threads share forward passes (:mod:`model.batching`), as
    the policy's do once :meth:`~model.policy.Policy.batch_calls` was called before this."""

    def __init__(self, policy: Policy, value: ValueNet, *, batch_values: bool = False) -> None:
        self.policy = policy
        self.value = value
        self.light = policy.light()
        self._batcher: Batcher[tuple[Board, float], np.ndarray] | None = (
            Batcher(self._evaluate) if batch_values else None)

    def evaluate(self, boards: list[Board], gains: list[float] | None = None) -> list[np.ndarray]:
        """Win, draw and loss of the side to move of each board (``gains`` as for
        :meth:`model.value.ValueNet.evaluate`), one row a board."""
        items = list(zip(boards, gains or [0.0] * len(boards), strict=True))
        return self._batcher.submit(items) if self._batcher else self._evaluate(items)

    def _evaluate(self, items: list[tuple[Board, float]]) -> list[np.ndarray]:
        return list(self.value.evaluate([b for b, _ in items], [g for _, g in items]))


def value_net_for(model_dir: str | Path | None,
                  value_dir: str | Path | None = None) -> tuple[ValueNet, str | None]:
    """The value net that a search over the model in ``model_dir`` (``None``: the shipped model)
    reads, and a note when it is not that model's own: ``value_dir`` when given, else the model's
    (``MODEL_DIR/value``, where the shipped model keeps its own), else the shipped value net with a
    note saying so. Raises :class:`~model.network.ModelLoadError` when it cannot be loaded."""
    from model.value import load_value

    if value_dir is not None:
        return load_value(value_dir), None
    if model_dir is None or (Path(model_dir) / "value").is_dir():
        return load_value(Path(model_dir) / "value" if model_dir else None), None
    return load_value(), (f"{model_dir} has no value net (no value/ folder): "
                          "the search reads the shipped one")


class Search:
    """PUCT search of one game, with a kept tree. Not thread-safe: one search at a time (``stop``
    may be set from another thread); the searches of other games run beside it."""

    def __init__(self, networks: Networks, config: SearchConfig | None = None) -> None:
        self.networks = networks
        self.config = config or SearchConfig()
        self.root: Node | None = None
        self.root_board: Board | None = None
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._checked_root: Node | None = None  # the root whose moves the safety check has seen

    def clear(self) -> None:
        """Forget the tree (a new game)."""
        self.root, self.root_board = None, None

    # -- the tree between moves ------------------------------------------------

    def _reuse(self, board: Board) -> Node:
        """The node of ``board`` in the kept tree (made the root), or a new root."""
        old, old_board = self.root, self.root_board
        if old is not None and old_board is not None:
            before, now = old_board.move_stack, board.move_stack
            if (len(now) >= len(before) and now[:len(before)] == before
                    and old_board.root().fen() == board.root().fen()):
                node = old
                for move in now[len(before):]:
                    node = next((c for c in node.children or [] if c.move == move), None)
                    if node is None:
                        break
                if node is not None and node.children:
                    node.parent = None
                    node.move = None
                    return node
        return Node(None, 1.0, None)

    # -- the search ------------------------------------------------------------

    def run(self, board: Board, limits: Limits | None = None,
            on_info: Callable[[SearchResult], None] | None = None, info_every: float = 1.0,
            multipv: int = 1) -> SearchResult:
        """Search ``board`` (a position with legal moves; its history is used) until a limit or
        :attr:`stop`; ``on_info`` is called about every ``info_every`` seconds and at the end."""
        with self._lock:
            return self._run(board, limits or Limits(), on_info, info_every, multipv)

    def _run(self, board: Board, limits: Limits, on_info: Callable[[SearchResult], None] | None,
             info_every: float, multipv: int) -> SearchResult:
        if (limits.nodes is None and limits.movetime is None and limits.mean_depth is None
                and not limits.infinite):
            limits = Limits(nodes=DEFAULT_NODES)
        if not board.legal_moves:
            raise ValueError(f"no legal move to search in {board.fen()}")
        board = board.copy()
        board.repetitions = 2  # inside the tree a repeated position ends the cycle (the root is not judged)
        self.root = self._reuse(board)
        self.root_board = board.copy()
        root = self.root
        stats = _Stats()  # the clock runs from here: the root's checks count against movetime
        if root.children is None:
            self._expand_root(root, board)
        if root is not self._checked_root:
            self._checked_root = root
            if not self._mark_checking_mate(root, board) and self.config.safe_root:
                self._drop_unsafe(root, board)
        _mark_wins(root, board)
        last_info = stats.started
        forced = len(root.children or []) == 1 and not limits.infinite  # nothing to choose
        while not self.stop.is_set() and not forced:
            if root.result is None:
                left = limits.nodes - stats.playouts if limits.nodes is not None else self.config.batch
                self._playout_batch(root, board, stats, min(self.config.batch, left))
            else:
                self.stop.wait(0.05)  # proven (under ``infinite``): nothing left to search
            now = time.monotonic()
            if on_info is not None and now - last_info >= info_every:
                on_info(self._result(root, board, stats, multipv))
                last_info = now
            if self._done(root, limits, stats, now):
                break
        result = self._result(root, board, stats, multipv)
        if on_info is not None:
            on_info(result)
        return result

    def _done(self, root: Node, limits: Limits, stats: _Stats, now: float) -> bool:
        if root.result is not None and not limits.infinite:
            return True  # proven: more playouts change nothing
        if limits.infinite:
            return False
        if limits.nodes is not None and stats.playouts >= limits.nodes:
            return True
        if limits.movetime is not None and (now - stats.started) * 1000 >= limits.movetime:
            return True
        if (limits.mean_depth is not None and stats.playouts
                and stats.depth_sum / stats.playouts >= limits.mean_depth):
            return True
        return False

    def _result(self, root: Node, board: Board, stats: _Stats, multipv: int) -> SearchResult:
        ranked = sorted(root.children or [], key=_rank, reverse=True)
        lines = [PvLine(c.move, _pv(c), c.n, c.wdl(), _mate(c)) for c in ranked[:max(1, multipv)]]
        playouts = stats.playouts
        depth = max(1, round(stats.depth_sum / playouts)) if playouts else 1
        return SearchResult(ranked[0].move, lines, playouts, time.monotonic() - stats.started,
                            depth, max(depth, stats.seldepth))

    def _expand_root(self, root: Node, board: Board) -> None:
        cands = self.networks.policy.candidates(board, temperature=self.config.policy_temperature)
        root.children = [Node(m, p, root) for m, p in cands]

    def _mark_checking_mate(self, root: Node, board: Board) -> bool:
        """Prove the root move that starts a forced mate by checks within
        :attr:`SearchConfig.mate_moves` moves (:func:`play.mates.checking_mate`), if there is one."""
        if not self.config.mate_moves:
            return False
        try:
            line = checking_mate(board, self.config.mate_moves, self.config.mate_nodes)
        except NodeBudgetExceeded:
            return False
        child = next((c for c in root.children or [] if line and c.move == line[0]), None)
        if child is None or line is None:
            return False
        # the line as a chain of proven nodes, for the PV (the defender's other replies are not
        # in the tree: a reply off the line makes a fresh root at the next move)
        node, result = child, WIN
        for plies, move in zip(range(len(line) - 1, -1, -1), line[1:] + [None], strict=True):
            node.result, node.plies = result, plies
            if move is None:
                node.children = []
            else:
                node.children = [Node(move, 1.0, node)]
                node, result = node.children[0], -result
        return True

    def _drop_unsafe(self, root: Node, board: Board) -> None:
        """Leave out the root moves that allow a mate in one, or lose more than
        :attr:`SearchConfig.safe_margin` soldiers beyond the safest move to an immediate capture
        (:func:`play.material.unsafe_moves`), or, with :attr:`SearchConfig.tactics_plies`, within that many
        plies more and the captures that follow (:func:`play.tactics.tactically_unsafe`), unless
        they give check: a few hundred playouts miss a quiet refutation. The margin keeps the pawn
        sacrifices and the cannon-for-horse trades that strong players make (with no margin the
        engine's best move was left out of the root in a third of its worst moves); checks stay,
        so the sacrifices that mate are still found. When the two checks together leave no move,
        the 2-ply check alone decides. Before all that, with :attr:`SearchConfig.mate_moves`, the moves
        after which the opponent mates by checks (:func:`play.mates.moves_allowing_mate`) go,
        checks too, unless every move allows one: material is given up rather than the game (in
        the arena the search walked into such mates when only the moves that lose material
        escaped them); when the material checks would leave none of the escapes, they all stay."""
        children = root.children or []
        if self.config.mate_moves:
            mated = moves_allowing_mate(board, [c.move for c in children], self.config.mate_moves,
                                        self.config.mate_nodes)
            if any(c.move not in mated for c in children):
                children = [c for c in children if c.move not in mated]
        unsafe = unsafe_moves(board, self.config.safe_margin)
        if self.config.tactics_plies:
            deeper = unsafe | tactically_unsafe(board, self.config.tactics_plies, self.config.safe_margin,
                                                self.config.tactics_nodes)
            if any(c.move not in deeper for c in children):
                unsafe = deeper
        kept = [c for c in children if c.move not in unsafe or board.gives_check(c.move)] or children
        total = sum(c.prior for c in kept) or 1.0
        for child in kept:
            child.prior /= total
        root.children = kept

    def _select(self, node: Node) -> Node:
        """The child of an expanded node with the highest PUCT score (proven wins first)."""
        children = node.children
        assert children
        for c in children:
            if c.result == WIN:
                return min((c for c in children if c.result == WIN), key=lambda c: c.plies)
        sqrt_n = math.sqrt(max(1, node.n + node.virtual))
        visited = sum(c.prior for c in children if c.n or c.virtual)
        fpu = -node.q() - self.config.fpu * math.sqrt(visited)
        cpuct = self.config.cpuct
        best, best_score = children[0], -math.inf
        for c in children:
            if c.result == LOSS:
                score = -10.0 + c.plies * 1e-3  # only when every move loses: the longest defence
            else:
                q = c.q() if (c.n or c.virtual or c.result is not None) else fpu
                score = q + cpuct * c.prior * sqrt_n / (1 + c.n + c.virtual)
            if score > best_score:
                best, best_score = c, score
        return best

    def _playout_batch(self, root: Node, board: Board, stats: _Stats, size: int) -> None:
        """Gather up to ``size`` leaves, evaluate them together, back their values up."""
        leaves: list[tuple[Node, Board]] = []
        for _ in range(size):
            node, depth = root, 0
            while node.children:
                node = self._select(node)
                node.virtual += 1
                board.push(node.move)
                depth += 1
                if node.result is not None:
                    break
            stats.depth_sum += depth
            stats.seldepth = max(stats.seldepth, depth)
            stats.playouts += 1
            if node.result is None and node.children is None:
                _close_if_over(node, board)
            if node.result is not None:
                self._backup(node, *_exact_wdl(node.result))
            elif node.virtual > 1:  # already gathered in this batch: a wasted playout, undone
                _undo_virtual(node)
                stats.playouts -= 1
                stats.depth_sum -= depth
                for _ in range(depth):
                    board.pop()
                break
            else:
                leaves.append((node, board.copy()))
            for _ in range(depth):
                board.pop()
        if not leaves:
            return
        boards = [b for _, b in leaves]
        weight = self.config.exchange
        wdl = self.networks.evaluate(boards, [weight * capture_gain(b) for b in boards] if weight else None)
        leaf_policy = self.networks.light if self.config.light_leaves else self.networks.policy
        priors = leaf_policy.candidates_many(boards, history=self.config.history)
        temperature = self.config.policy_temperature
        for (node, _), row, cands in zip(leaves, wdl, priors, strict=True):
            if temperature != 1.0:
                cands = _sharpen(cands, temperature)
            node.children = [Node(m, p, node) for m, p in cands]
            # the value is the side to move's at the leaf; the mover's is its mirror
            self._backup(node, float(row[2]), float(row[1]), float(row[0]))

    def _backup(self, node: Node, win: float, draw: float, loss: float) -> None:
        """Add a playout's value (for ``node``'s mover) along the path to the root, removing the
        virtual losses, and propagate proven results."""
        child: Node | None = None
        while node is not None:
            node.add(win, draw, loss)
            if node.parent is not None:
                node.virtual -= 1
            if child is not None and node.result is None:
                _prove(node)
            win, loss = loss, win
            child, node = node, node.parent


def _rank(node: Node) -> tuple:
    """Sort key of a move, best last: proven wins (the shortest first), then visits and Q;
    proven losses last (the longest first)."""
    if node.result == WIN:
        return (2, -node.plies, 0.0)
    if node.result == LOSS:
        return (0, node.plies, 0.0)
    return (1, node.n, node.q())


def _pv(node: Node) -> list[Move]:
    """The line from a root move on, following the best move of each position."""
    line = [node.move]
    while node.children and (node.n > 1 or node.result is not None):
        node = max(node.children, key=_rank)
        if not node.n and node.result is None:
            break
        line.append(node.move)
    return line


def _mate(node: Node) -> int | None:
    """Moves to the end for a root move proven to win (positive) or lose (negative)."""
    if node.result == WIN:
        return (node.plies + 2) // 2
    if node.result == LOSS:
        return -((node.plies + 2) // 2)
    return None


def _mark_wins(root: Node, board: Board) -> None:
    """Prove the root moves that win at once (mate, or a loss of the opponent by the rules), so
    that a mate in one is played and reported whatever the budget."""
    for child in root.children or []:
        if child.result is None and child.children is None:
            board.push(child.move)
            _close_if_over(child, board, wins_only=True)
            board.pop()
    _prove(root)


def _close_if_over(node: Node, board: Board, wins_only: bool = False) -> None:
    """Make ``node`` (whose position is ``board``) a proven leaf when the game is over there: its
    result for the side that moved into it, no children; with ``wins_only``, only when that side won."""
    outcome = board.outcome()
    if outcome is None:
        return
    mover_won = outcome.winner == (not board.turn)
    if wins_only and not mover_won:
        return
    node.children, node.plies = [], 0
    node.result = DRAW if outcome.winner is None else WIN if mover_won else LOSS


def _prove(node: Node) -> None:
    """Set ``node``'s result when its children decide it: a child won by its mover (the side
    to move at ``node``) makes ``node`` lost for its own mover; children all proven make it
    the best of theirs, negated."""
    children = node.children
    if not children:
        return
    wins = [c.plies for c in children if c.result == WIN]
    if wins:
        node.result, node.plies = LOSS, min(wins) + 1
        return
    if any(c.result is None for c in children):
        return
    best = max(c.result for c in children)
    plies = [c.plies for c in children if c.result == best]
    node.result = -best
    node.plies = (max(plies) if best == LOSS else min(plies)) + 1


def _exact_wdl(result: int) -> tuple[float, float, float]:
    return (1.0, 0.0, 0.0) if result == WIN else (0.0, 0.0, 1.0) if result == LOSS else (0.0, 1.0, 0.0)


def _undo_virtual(node: Node) -> None:
    """Take back the virtual losses of a path that was not played out."""
    while node.parent is not None:
        node.virtual -= 1
        node = node.parent


def _sharpen(cands: list[tuple[Move, float]], temperature: float) -> list[tuple[Move, float]]:
    powered = [(m, p ** (1 / temperature)) for m, p in cands]
    total = sum(p for _, p in powered)
    return [(m, p / total) for m, p in powered]
