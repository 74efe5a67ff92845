"""Analysis for players: a position's evaluation and best lines, and a game's review.

:meth:`Analyser.position` searches a position (:mod:`play.search`) for its best lines and reports
its evaluation (:class:`Evaluation`: win/draw/loss, centipawns or moves to mate, always from Red's
side, as PGN's ``[%eval]`` is from the first player's): the value net that the search reads, two
plies ahead, or the mate the search proves. Each move's line is evaluated one ply ahead of the
position after it (:func:`one_ply`: the mean of the net's view of that position and of the position
after its best reply; either alone swings with the side to move), and the position's evaluation
is its best line's (:func:`evaluate`), which agrees with Fairy-Stockfish better still.
:meth:`Analyser.game` evaluates every position of a game and judges each move by the drop in the
mover's expected score (win + draw / 2) between the position before it and the position after it,
with lichess's thresholds: lichess counts 0.1, 0.2 and 0.3 of "winning chances" (-1..1), which are 0.05, 0.10
and 0.15 of the expected score (0..1), as an inaccuracy, a mistake and a blunder. The best move
is never judged. :func:`annotate` writes the review into a :class:`~xiangqi.pgn.Game`:
``{[%eval 0.35]}`` after every move, the NAGs ``?!``, ``?`` and ``??``, and the best line as a
variation of each judged move.

>>> from model.policy import Policy
>>> analyser = Analyser.load(Policy.load())
>>> analysis = analyser.position(Board(), nodes=64)
>>> analysis.evaluation.pgn(), analysis.best.uci()
('0.28', 'h2e2')
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from model.value import cp_from_win_probability
from xiangqi import RED, Board, Move
from xiangqi.encoding import codes_array
from xiangqi.pgn import Game, Line

from .material import capture_gain
from .search import Limits, Networks, Search

if TYPE_CHECKING:
    from model.policy import Policy
    from model.value import ValueNet

DEFAULT_NODES = 200
JUDGEMENTS = (("blunder", 0.15), ("mistake", 0.10), ("inaccuracy", 0.05))
"""The least drop in the mover's expected score (0..1) for each judgement, worst first."""
NAGS = {"inaccuracy": 6, "mistake": 2, "blunder": 4}  # ?!, ?, ??
PV_IN_PGN = 6  # plies of the best line written as a variation of a judged move
MISTAKE = dict(JUDGEMENTS)["mistake"]
SEEN_VISITS = 4  # playouts of a move in the search before it that make the search's view of it count
ALL_LINES = 256  # multipv for every root move: the review reads the played move's line
ENGINE_DEPTH = 12  # an external engine's search when its spec sets no limit
CACHE_SIZE = 4096  # positions an analyser remembers
LOOKAHEAD = 0.5
"""The share of the best move's value in a position's evaluation (:func:`blend`), measured on
held-out master games against Fairy-Stockfish (``bench/review_quality.py``)."""
REVIEW_NOISE = 0.0
"""The evaluation's error of a drop in expected score, measured against Fairy-Stockfish at depth 12
(``bench/review_quality.py``, 640 moves of held-out games, 93 of them the engine's mistakes: a base
rate of 15%): with the evaluation two plies ahead, 7 of the 19 moves whose drop was 0.10 to 0.15
were the engine's mistakes, 10 of the 20 above 0.15, 3 of the 22 of 0.08 to 0.10. A drop that
reaches a mistake's threshold is clear of the noise. (One ply ahead, drops of 0.10 to 0.15 were no
better than the base rate, and the margin was 0.05.) A mistake within it of the threshold is
"unclear"."""


@dataclass(frozen=True)
class Evaluation:
    """A position's value from Red's side: ``wdl`` (Red wins, draw, Red loses), ``cp`` (Red's
    expected score in centipawns) or ``mate`` (moves to mate: positive when Red mates, negative
    when Black does). A finished game has neither ``cp`` nor ``mate``: its ``wdl`` is exact."""

    wdl: tuple[float, float, float]
    cp: int | None
    mate: int | None

    @property
    def score(self) -> float:
        """Red's expected score, win + draw / 2 (0..1)."""
        return self.wdl[0] + self.wdl[1] / 2

    def pgn(self) -> str | None:
        """The ``[%eval]`` value: pawns for Red with two decimals (``-1.25``) or ``#3`` / ``#-3``;
        None for a finished game."""
        if self.mate is not None:
            return f"#{self.mate}"
        if self.cp is not None:
            return f"{self.cp / 100:.2f}"
        return None

    @staticmethod
    def of_side(wdl: tuple[float, float, float], mate: int | None, turn: bool) -> Evaluation:
        """From the side to move's ``wdl`` and ``mate`` (``turn``: RED or BLACK) to Red's view."""
        win, draw, loss = (float(x) for x in wdl)
        cp = None if mate is not None else round(cp_from_win_probability(win + draw / 2))
        if turn != RED:
            win, loss = loss, win
            cp = None if cp is None else -cp
            mate = None if mate is None else -mate
        return Evaluation((win, draw, loss), cp, mate)

    @staticmethod
    def finished(board: Board) -> Evaluation | None:
        """The exact value of a finished game; None while it goes on."""
        outcome = board.outcome()
        if outcome is None:
            return None
        wdl = (0.0, 1.0, 0.0) if outcome.winner is None else (1.0, 0.0, 0.0) if outcome.winner == RED \
            else (0.0, 0.0, 1.0)
        return Evaluation(wdl, None, None)


@dataclass
class AnalysisLine:
    """One move of the position and where it leads: its evaluation and principal variation."""

    move: Move
    evaluation: Evaluation
    pv: list[Move]
    visits: int


@dataclass
class PositionAnalysis:
    """A position's evaluation and best lines (best first; none when the game is over)."""

    evaluation: Evaluation
    lines: list[AnalysisLine]
    nodes: int

    @property
    def best(self) -> Move | None:
        return self.lines[0].move if self.lines else None


@dataclass
class MoveReview:
    """One move of a game judged: ``loss`` is the drop in the mover's expected score (0..1)."""

    ply: int
    side: str  # the mover: "red" or "black"
    move: Move
    best: Move | None
    pv: list[Move]
    before: Evaluation
    after: Evaluation
    loss: float
    judgement: str | None  # "inaccuracy", "mistake", "blunder", "unclear" or None


def position_key(board: Board) -> str:
    """What makes two positions equal for the cache: the board and the side to move."""
    return " ".join(board.fen().split()[:2])


def remember(cache: OrderedDict, key: tuple, value: object) -> None:
    """Keep ``value`` in an LRU ``cache`` of at most :data:`CACHE_SIZE` entries."""
    cache[key] = value
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def judge(loss: float, best: bool = False, noise: float = 0.0, sure: float | None = None) -> str | None:
    """The judgement of a move that lost ``loss`` of the mover's expected score; the best move
    (``best``) is never judged. A mistake or a blunder must be clear of the evaluator's ``noise``
    (its measured error of a drop): when ``sure`` (the loss that every evaluation of the move
    agrees on; default ``loss``) falls short of a mistake's threshold plus ``noise``, the move is
    ``"unclear"`` rather than a mistake."""
    if best:
        return None
    name = next((name for name, least in JUDGEMENTS if loss >= least), None)
    if name in ("mistake", "blunder") and (loss if sure is None else sure) < MISTAKE + noise:
        return "unclear"
    return name


def value_input(board: Board, exchange: float) -> tuple[np.ndarray, bool, float]:
    """What the value net reads of ``board``: its codes, whether Red is to move, and the material
    about to be won (:func:`~play.material.capture_gain`, weighted by ``exchange``)."""
    return codes_array(board), board.turn == RED, exchange * capture_gain(board) if exchange else 0.0


class _Batch:
    """Positions gathered for one run of the value net, each read while its moves are on the board
    (no copies), and what the net makes of them."""

    def __init__(self, exchange: float) -> None:
        self.exchange = exchange
        self.rows: list[tuple[np.ndarray, bool, float]] = []
        self.wdl = np.zeros((0, 3), dtype=np.float32)

    def add(self, board: Board) -> int:
        """Gather ``board``; its row in :attr:`wdl`."""
        self.rows.append(value_input(board, self.exchange))
        return len(self.rows) - 1

    def add_moves(self, board: Board) -> dict[Move, Evaluation | int]:
        """For each legal move of ``board``: the exact value of the game it ends, or the row of the
        position after it."""
        after: dict[Move, Evaluation | int] = {}
        for move in board.legal_moves:
            board.push(move)
            after[move] = Evaluation.finished(board) or self.add(board)
            board.pop()
        return after

    def run(self, value: ValueNet) -> None:
        """Evaluate the gathered positions, in one batch."""
        if self.rows:
            codes, red, gains = zip(*self.rows, strict=True)
            self.wdl = value.wdl(np.stack(codes), np.array(red), np.array(gains))

    def read(self, row: int, turn: bool) -> Evaluation:
        """The evaluation of the position in ``row``, whose side to move is ``turn``."""
        return Evaluation.of_side(tuple(self.wdl[row]), None, turn)

    def read_moves(self, after: dict[Move, Evaluation | int], turn: bool) -> dict[Move, Evaluation]:
        """:meth:`add_moves`' result evaluated (``turn``: the side to move after the moves)."""
        return {m: v if isinstance(v, Evaluation) else self.read(v, turn) for m, v in after.items()}


def lookahead(value: ValueNet, board: Board,
              exchange: float = 1.0) -> tuple[Evaluation, dict[Move, Evaluation]]:
    """The value net's evaluation of ``board`` and of the position after each legal move (exact
    for a move that ends the game), each from Red's side; a position's material about to be won
    (:func:`~play.material.capture_gain`, weighted by ``exchange``) counts as in the search's leaves.
    One batch; each position is read while its move is on the board (no copies)."""
    batch = _Batch(exchange)
    own, after = batch.add(board), batch.add_moves(board)
    batch.run(value)
    return batch.read(own, board.turn), batch.read_moves(after, not board.turn)


def best_move(after: dict[Move, Evaluation], turn: bool) -> Move:
    """The move of :func:`lookahead`'s ``after`` that is best for the side to move (``turn``)."""
    return max(after, key=lambda m: after[m].score if turn == RED else -after[m].score)


def ends_the_game(evaluation: Evaluation) -> bool:
    """Whether a move's ``evaluation`` is the exact value of the game it ends."""
    return evaluation.cp is None and evaluation.mate is None


def decided(best: Evaluation) -> Evaluation:
    """The evaluation of a position whose best move ends the game (``best``: the exact value after
    it): a mate in one for the winner, or a draw."""
    if best.wdl[1] == 1:
        return Evaluation(best.wdl, 0, None)
    return Evaluation(best.wdl, None, 1 if best.wdl[0] == 1 else -1)


def blend(own: Evaluation, best: Evaluation) -> Evaluation:
    """A position's evaluation: :data:`LOOKAHEAD` of its best move's (``best``) and the rest of the
    value net's view of the position itself (``own``), both from Red's side. Either alone swings
    with the side to move (``bench/review_quality.py``); their mean agrees with a deep search
    better than either. A mate after the best move is kept; a best move that ends the game is
    a mate in one (:func:`decided`)."""
    if ends_the_game(best):
        return decided(best)
    if best.mate is not None:
        return best
    wdl = tuple(LOOKAHEAD * b + (1 - LOOKAHEAD) * o for b, o in zip(best.wdl, own.wdl, strict=True))
    return Evaluation(wdl, round(cp_from_win_probability(wdl[0] + wdl[1] / 2)), None)


def one_ply(value: ValueNet, board: Board, exchange: float = 1.0) -> Evaluation:
    """:func:`blend` of the value net's view of an unfinished ``board`` and of its best move
    (:func:`lookahead`): the evaluation of a move's line (:func:`line_evaluations`)."""
    own, after = lookahead(value, board, exchange)
    return blend(own, after[best_move(after, board.turn)])


def line_evaluations(value: ValueNet, board: Board, exchange: float = 1.0) -> dict[Move, Evaluation]:
    """The evaluation of each legal move of an unfinished ``board``: :func:`one_ply` of the position
    after it (exact when the move ends the game), all in one batch of the value net (the positions
    after each move and after each reply, read while their moves are on the board)."""
    batch = _Batch(exchange)
    lines: dict[Move, Evaluation | tuple[int, bool, dict[Move, Evaluation | int]]] = {}
    for move in board.legal_moves:
        board.push(move)
        lines[move] = Evaluation.finished(board) or (batch.add(board), board.turn, batch.add_moves(board))
        board.pop()
    batch.run(value)
    out: dict[Move, Evaluation] = {}
    for move, line in lines.items():
        if isinstance(line, Evaluation):
            out[move] = line
            continue
        own, turn, replies = line
        after = batch.read_moves(replies, not turn)
        out[move] = blend(batch.read(own, turn), after[best_move(after, turn)])
    return out


def evaluate(value: ValueNet, board: Board, exchange: float = 1.0) -> Evaluation:
    """The evaluation of an unfinished ``board`` that the analysis shows: its best move's
    (:func:`line_evaluations`), two plies of the value net. A position and the position after a
    move are then seen alike (each from one and two plies ahead), and this agrees with
    Fairy-Stockfish better than one ply (``bench/review_quality.py``)."""
    return best_line(line_evaluations(value, board, exchange), board.turn)


def best_line(lines: dict[Move, Evaluation], turn: bool) -> Evaluation:
    """The evaluation of a position from its lines' (``turn``: the side to move): the best one's,
    a mate in one when it ends the game (:func:`decided`)."""
    best = lines[best_move(lines, turn)]
    return decided(best) if ends_the_game(best) else best


class Analyser:
    """Searches positions for analysis, one at a time (thread-safe). Stable: every position is
    searched from a fresh tree (a tree kept from the last position would add its visits, and the
    same position read +0.29, then +0.19), and the last :data:`CACHE_SIZE` answers are kept by
    position (board and side to move), budget and lines, so an equal position, however reached,
    gets the same evaluation."""

    noise = REVIEW_NOISE

    def __init__(self, search: Search) -> None:
        self.search = search
        self.config = search.config
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, PositionAnalysis] = OrderedDict()

    @classmethod
    def load(cls, policy: Policy, value_dir: str | None = None) -> Analyser:
        """An analyser over ``policy`` and the value net in ``value_dir`` (default: the shipped
        one; raises :class:`~model.network.ModelLoadError` when it is missing)."""
        from model.value import load_value

        return cls(Search(Networks(policy, load_value(value_dir))))

    def position(self, board: Board, nodes: int = DEFAULT_NODES, multipv: int = 1) -> PositionAnalysis:
        """Search ``board`` (its history is used) for ``nodes`` playouts for the ``multipv`` best
        lines; the evaluations are :func:`line_evaluations`' and :func:`evaluate`'s (a mate the
        search proves is kept as the search found it); a finished game is evaluated exactly."""
        exact = Evaluation.finished(board)
        if exact is not None:
            return PositionAnalysis(exact, [], 0)
        key = (position_key(board), nodes, multipv)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            self.search.clear()
            self.search.config = replace(self.config, batch=max(1, min(self.config.batch, nodes)))
            result = self.search.run(board, Limits(nodes=nodes), multipv=multipv)
            lines = [AnalysisLine(line.move, Evaluation.of_side(line.wdl, line.mate, board.turn)
                                  if line.mate is not None else self._after(board, line.move), line.pv,
                                  line.visits)
                     for line in result.lines]
            evaluation = lines[0].evaluation if result.lines[0].mate is not None else self._evaluation(board)
            analysis = PositionAnalysis(evaluation, lines, result.nodes)
            remember(self._cache, key, analysis)
        return analysis

    def _lines(self, board: Board) -> dict[Move, Evaluation]:
        """:func:`line_evaluations` of an unfinished ``board``, remembered by position."""
        key = ("lines", position_key(board))
        if key not in self._cache:
            value = self.search.networks.value
            remember(self._cache, key, line_evaluations(value, board, self.config.exchange))
        return self._cache[key]

    def _evaluation(self, board: Board) -> Evaluation:
        """:func:`evaluate` of an unfinished ``board``: its best line's evaluation."""
        return best_line(self._lines(board), board.turn)

    def _after(self, board: Board, move: Move) -> Evaluation:
        """The evaluation of ``move``'s line (:func:`line_evaluations`)."""
        return self._lines(board)[move]

    def game(self, game: Game, nodes: int = DEFAULT_NODES,
             progress: Callable[[int, int], None] | None = None) -> list[MoveReview]:
        """Evaluate every position of ``game``'s main line and judge each move;
        ``progress(done, total)`` is called after each position."""
        board = game.board()
        analyses = [self.position(board, nodes, ALL_LINES)]
        total = len(game.moves) + 1
        if progress:
            progress(1, total)
        for move in game.moves:
            board.push(move)
            analyses.append(self.position(board, nodes, ALL_LINES))
            if progress:
                progress(len(analyses), total)
        turn = Board(game.fen).turn
        return [review_move(ply, move, turn if ply % 2 == 0 else not turn, analyses[ply], analyses[ply + 1],
                            self.noise) for ply, move in enumerate(game.moves)]

    def close(self) -> None:
        """Release what the analyser holds (nothing for the search)."""


class EngineAnalyser(Analyser):
    """The same analysis read from an external UCI or UCCI engine (Pikafish, Fairy-Stockfish) through
    :mod:`xiangqi.engine`, as lichess reviews with Stockfish: ``spec`` is an
    :class:`~xiangqi.engine.EngineSpec` text, ``uci:/usr/games/fairy-stockfish?depth=14`` (the
    ``uci:`` of the arena's players may be left out); without a
    limit in it the engine searches to :data:`ENGINE_DEPTH`. The engine's score is for the side
    to move; its expected score is :func:`~model.value.win_probability_from_cp` of it (a ``wdl``
    with no draw share: an engine gives no draw probability), a mate is a mate. It gives one line,
    its best move (``nodes`` and ``multipv`` are the engine's business). The engine is started on
    first use and searches each position with a cleared hash, so its answers are stable too; a
    deterministic engine has no noise to allow for, so its judgements are never "unclear"."""

    noise = 0.0

    def __init__(self, spec: str) -> None:
        from xiangqi.engine import EngineSpec, Limit

        self.spec = EngineSpec.parse(spec.removeprefix("uci:"))
        if self.spec.limit is None:
            self.spec.limit = Limit(depth=ENGINE_DEPTH)
        self._client = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, PositionAnalysis] = OrderedDict()

    def position(self, board: Board, nodes: int = DEFAULT_NODES, multipv: int = 1) -> PositionAnalysis:
        """The engine's evaluation of ``board`` (its history is sent) and its best move; a
        finished game is evaluated exactly. Raises :class:`~xiangqi.engine.UciError` when the
        engine fails."""
        from model.value import win_probability_from_cp
        from xiangqi.engine import Cp, UciClient

        exact = Evaluation.finished(board)
        if exact is not None:
            return PositionAnalysis(exact, [], 0)
        key = (position_key(board),)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            if self._client is None:
                client = UciClient(self.spec)
                client.start()
                self._client = client
            self._client.new_game()
            score, best = self._client.analyse(board)
            if isinstance(score, Cp):
                p = float(win_probability_from_cp(score.cp))
                wdl, mate = (p, 0.0, 1 - p), None
            else:
                wdl, mate = ((1.0, 0.0, 0.0) if score.moves > 0 else (0.0, 0.0, 1.0)), score.moves
            evaluation = Evaluation.of_side(wdl, mate, board.turn)
            if isinstance(score, Cp):  # the engine's own centipawns, not a round trip through the curve
                evaluation = replace(evaluation, cp=score.cp if board.turn == RED else -score.cp)
            lines = [AnalysisLine(best, evaluation, [best], 0)] if best is not None else []
            analysis = PositionAnalysis(evaluation, lines, 0)
            remember(self._cache, key, analysis)
        return analysis

    def close(self) -> None:
        """Stop the engine."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def analyser_for(policy: Policy | None, engine: str | None = None, value_dir: str | None = None) -> Analyser:
    """An :class:`EngineAnalyser` over ``engine`` (``uci:SPEC`` or ``SPEC``) when one is given, else the
    search's :class:`Analyser` over ``policy`` and the value net in ``value_dir``."""
    if engine:
        return EngineAnalyser(engine)
    from model.policy import Policy

    return Analyser.load(policy or Policy.load(), value_dir)


def review_move(ply: int, move: Move, turn: bool, before: PositionAnalysis, after: PositionAnalysis,
                noise: float = 0.0) -> MoveReview:
    """The review of ``move`` (made by ``turn``, RED or BLACK) from the analyses of the positions
    before and after it: the loss is the drop in the mover's expected score from ``before`` to
    ``after``, judged by :func:`judge` with the evaluator's ``noise``. When the search before the
    move looked at it (:data:`SEEN_VISITS` playouts or more among ``before.lines``), its own view of
    the move must confirm a mistake too: the smaller of the two drops has to clear the noise, else
    the move is "unclear" (two evaluations of the same move that disagree are no proof)."""
    sign = 1 if turn == RED else -1
    loss = max(0.0, sign * (before.evaluation.score - after.evaluation.score))
    seen = next((line for line in before.lines if line.move == move and line.visits >= SEEN_VISITS), None)
    sure = loss if seen is None else min(loss, sign * (before.evaluation.score - seen.evaluation.score))
    pv = before.lines[0].pv if before.lines else []
    return MoveReview(ply, "red" if turn == RED else "black", move, before.best, pv, before.evaluation,
                      after.evaluation, loss, judge(loss, move == before.best, noise, sure))


def annotate(game: Game, reviews: list[MoveReview]) -> Game:
    """A copy of ``game`` with the review written in: ``[%eval]`` before each move's comment,
    the judgement's NAG, and the best line as a variation of each judged move."""
    comments = dict(game.comments)
    nags = {i: list(v) for i, v in game.nags.items()}
    variations = list(game.variations)
    for r in reviews:
        value = r.after.pgn()
        if value is not None:
            old = comments.get(r.ply + 1)
            comments[r.ply + 1] = f"[%eval {value}]" + (f" {old}" if old else "")
        if r.judgement in NAGS:
            nags.setdefault(r.ply, []).insert(0, NAGS[r.judgement])
            if r.pv:
                best = {0: f"{r.judgement}; best"}
                variations.append(Line(ply=r.ply, moves=r.pv[:PV_IN_PGN], comments=best))
    variations.sort(key=lambda v: v.ply)
    return replace(game, comments=comments, nags=nags, variations=variations)


def summary(reviews: list[MoveReview]) -> dict[str, dict[str, int]]:
    """How many inaccuracies, mistakes, blunders and unclear moves each side made."""
    counts = {side: {name: 0 for name in (*NAGS, "unclear")} for side in ("red", "black")}
    for r in reviews:
        if r.judgement is not None:
            counts[r.side][r.judgement] += 1
    return counts


# ---------------------------------------------------------------- xqgpt analyse


def evaluation_json(e: Evaluation) -> dict:
    """``{"wdl": [red win, draw, red loss], "cp": int | null, "mate": int | null}``."""
    return {"wdl": [round(x, 4) for x in e.wdl], "cp": e.cp, "mate": e.mate}


def position_json(board: Board, analysis: PositionAnalysis) -> dict:
    """A position's analysis as ``xqgpt analyse FEN --json`` prints it (docs/analysis.md)."""
    return {"fen": board.fen(), "eval": evaluation_json(analysis.evaluation), "nodes": analysis.nodes,
            "lines": [{"move": line.move.uci(), "eval": evaluation_json(line.evaluation),
                       "pv": [m.uci() for m in line.pv]} for line in analysis.lines]}


def review_json(game: Game, start: Evaluation, reviews: list[MoveReview], nodes: int) -> dict:
    """A game's review as ``xqgpt analyse FILE.pgn --json`` prints it (docs/analysis.md)."""
    return {"headers": game.headers, "fen": game.fen, "result": game.result, "nodes": nodes,
            "start": evaluation_json(start), "summary": summary(reviews),
            "moves": [{"ply": r.ply, "side": r.side, "move": r.move.uci(), "best": r.best and r.best.uci(),
                       "pv": [m.uci() for m in r.pv], "eval": evaluation_json(r.after),
                       "loss": round(r.loss, 4), "judgement": r.judgement} for r in reviews]}


def _line_text(board: Board, moves: list[Move], notation: str) -> str:
    from xiangqi.notation import render_move

    walk, words = board.copy(), []
    for move in moves:
        words.append(render_move(walk, move, notation))
        walk.push(move)
    return " ".join(words)


def analyse_main(args) -> int:
    """``xqgpt analyse SOURCE``: a FEN's evaluation and best lines, or every game of a PGN file
    reviewed and written back as PGN with ``[%eval]`` comments and NAGs (progress on stderr)."""
    from pathlib import Path

    from model.policy import Policy
    from xiangqi import XiangqiError
    from xiangqi.pgn import PgnError, read_pgn_file

    games: list[Game | PgnError] = []
    board = None
    if Path(args.source).is_file():
        games = read_pgn_file(args.source)
        if not games:
            raise ValueError(f"no game found in {args.source}")
    else:
        try:
            board = Board(args.source)
        except XiangqiError as e:
            raise ValueError(f"{args.source!r} is neither a PGN file nor a FEN ({e})") from None
    engine = getattr(args, "engine", None)
    analyser = analyser_for(None if engine else Policy.load(args.model), engine, args.value)
    try:
        return _analyse_with(analyser, args, games, board)
    finally:
        analyser.close()


def _analyse_with(analyser: Analyser, args, games: list, board: Board | None) -> int:
    import json
    import sys

    from xiangqi.pgn import PgnError, write_game

    if board is not None:
        analysis = analyser.position(board, args.nodes, args.multipv)
        if args.json:
            print(json.dumps(position_json(board, analysis), ensure_ascii=False))
            return 0
        e = analysis.evaluation
        print(f"eval {e.pgn() or 'game over'}  Red wins {e.wdl[0]:.0%}, draws {e.wdl[1]:.0%}, "
              f"loses {e.wdl[2]:.0%}  ({analysis.nodes} nodes)")
        for i, line in enumerate(analysis.lines, 1):
            print(f"{i}. {line.evaluation.pgn()}  {_line_text(board, line.pv, args.notation)}")
        return 0
    unreadable = 0
    for index, game in enumerate(games):
        if isinstance(game, PgnError):
            print(f"xqgpt: skipped: {game}", file=sys.stderr)
            unreadable += 1
            continue
        name = game.headers.get("Event") or f"game {index}"

        def progress(done: int, total: int, name: str = name) -> None:
            print(f"\r{name}: {done}/{total} positions", end="" if done < total else "\n", file=sys.stderr)

        reviews = analyser.game(game, args.nodes, progress=progress)
        start = reviews[0].before if reviews else analyser.position(game.board(), args.nodes).evaluation
        if args.json:
            print(json.dumps(review_json(game, start, reviews, args.nodes), ensure_ascii=False))
        else:
            print(write_game(annotate(game, reviews), args.notation))
    return 1 if unreadable else 0
