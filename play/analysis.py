"""Analysis for players: a position's evaluation and best lines, and a game's review.

:meth:`Analyser.position` searches a position (:mod:`play.search`) and reports its evaluation
(:class:`Evaluation`: win/draw/loss, centipawns or moves to mate, always from Red's side, as
PGN's ``[%eval]`` is from the first player's) and its best lines. :meth:`Analyser.game` evaluates
every position of a game and judges each move by the drop in the mover's expected score
(win + draw / 2) between the position before it and the position after it, with lichess's
thresholds: lichess counts 0.1, 0.2 and 0.3 of "winning chances" (-1..1), which are 0.05, 0.10
and 0.15 of the expected score (0..1), as an inaccuracy, a mistake and a blunder. The best move
is never judged. :func:`annotate` writes the review into a :class:`~xiangqi.pgn.Game`:
``{[%eval 0.35]}`` after every move, the NAGs ``?!``, ``?`` and ``??``, and the best line as a
variation of each judged move.

>>> from model.policy import Policy
>>> analyser = Analyser.load(Policy.load())
>>> analysis = analyser.position(Board(), nodes=64)
>>> analysis.evaluation.pgn(), analysis.best.uci()
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from model.value import cp_from_win_probability
from xiangqi import RED, Board, Move
from xiangqi.pgn import Game, Line

from .search import Limits, Networks, Search

if TYPE_CHECKING:
    from model.policy import Policy

DEFAULT_NODES = 200
JUDGEMENTS = (("blunder", 0.15), ("mistake", 0.10), ("inaccuracy", 0.05))
"""The least drop in the mover's expected score (0..1) for each judgement, worst first."""
NAGS = {"inaccuracy": 6, "mistake": 2, "blunder": 4}  # ?!, ?, ??
PV_IN_PGN = 6  # plies of the best line written as a variation of a judged move


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
    judgement: str | None  # "inaccuracy", "mistake", "blunder" or None


def judge(loss: float, best: bool = False) -> str | None:
    """The judgement of a move that lost ``loss`` of the mover's expected score; the best move
    (``best``) is never judged."""
    if best:
        return None
    return next((name for name, least in JUDGEMENTS if loss >= least), None)


class Analyser:
    """Searches positions for analysis, one at a time (thread-safe). The search's tree is kept
    between calls, so the positions of a game analysed in order reuse it."""

    def __init__(self, search: Search) -> None:
        self.search = search
        self.config = search.config
        self._lock = threading.Lock()

    @classmethod
    def load(cls, policy: Policy, value_dir: str | None = None) -> Analyser:
        """An analyser over ``policy`` and the value net in ``value_dir`` (default: the shipped
        one; raises :class:`~model.network.ModelLoadError` when it is missing)."""
        from model.value import load_value

        return cls(Search(Networks(policy, load_value(value_dir))))

    def position(self, board: Board, nodes: int = DEFAULT_NODES, multipv: int = 1) -> PositionAnalysis:
        """Search ``board`` (its history is used) for ``nodes`` playouts and report the
        evaluation and the ``multipv`` best lines; a finished game is evaluated exactly."""
        exact = Evaluation.finished(board)
        if exact is not None:
            return PositionAnalysis(exact, [], 0)
        with self._lock:
            self.search.config = replace(self.config, batch=max(1, min(self.config.batch, nodes)))
            result = self.search.run(board, Limits(nodes=nodes), multipv=multipv)
        lines = [AnalysisLine(line.move, self._line_evaluation(board, line.move, line.wdl, line.mate,
                                                               line.visits), line.pv, line.visits)
                 for line in result.lines]
        return PositionAnalysis(lines[0].evaluation, lines, result.nodes)

    def _line_evaluation(self, board: Board, move: Move, wdl: tuple[float, float, float],
                         mate: int | None, visits: int) -> Evaluation:
        if visits or mate is not None:
            return Evaluation.of_side(wdl, mate, board.turn)
        # not searched (a forced move): the value net's view of the position after it
        after = board.copy()
        after.push(move)
        exact = Evaluation.finished(after)
        if exact is not None:
            return exact
        win, draw, loss = self.search.networks.value.evaluate([after])[0]  # the opponent's
        return Evaluation.of_side((loss, draw, win), None, board.turn)

    def game(self, game: Game, nodes: int = DEFAULT_NODES,
             progress: Callable[[int, int], None] | None = None) -> list[MoveReview]:
        """Evaluate every position of ``game``'s main line and judge each move;
        ``progress(done, total)`` is called after each position."""
        board = game.board()
        analyses = [self.position(board, nodes)]
        total = len(game.moves) + 1
        if progress:
            progress(1, total)
        for move in game.moves:
            board.push(move)
            analyses.append(self.position(board, nodes))
            if progress:
                progress(len(analyses), total)
        reviews = []
        turn = Board(game.fen).turn
        for ply, move in enumerate(game.moves):
            before, after = analyses[ply], analyses[ply + 1]
            gained = after.evaluation.score - before.evaluation.score
            loss = max(0.0, -gained if turn == RED else gained)
            best = before.best
            pv = before.lines[0].pv if before.lines else []
            side = "red" if turn == RED else "black"
            reviews.append(MoveReview(ply, side, move, best, pv, before.evaluation, after.evaluation, loss,
                                      judge(loss, move == best)))
            turn = not turn
        return reviews


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
        if r.judgement is not None:
            nags.setdefault(r.ply, []).insert(0, NAGS[r.judgement])
            if r.pv:
                best = {0: f"{r.judgement}; best"}
                variations.append(Line(ply=r.ply, moves=r.pv[:PV_IN_PGN], comments=best))
    variations.sort(key=lambda v: v.ply)
    return replace(game, comments=comments, nags=nags, variations=variations)


def summary(reviews: list[MoveReview]) -> dict[str, dict[str, int]]:
    """How many inaccuracies, mistakes and blunders each side made."""
    counts = {side: {name: 0 for name in NAGS} for side in ("red", "black")}
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
    import json
    import sys
    from pathlib import Path

    from model.policy import Policy
    from xiangqi import XiangqiError
    from xiangqi.pgn import PgnError, read_pgn_file, write_game

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
    analyser = Analyser.load(Policy.load(args.model), args.value)
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
