"""``POST /api/analyse``: a position's evaluation and best lines from the search. Nothing is stored.

The work is bounded: at most :data:`~server.schemas.MAX_ANALYSE_NODES` playouts a request, run in
the work queue's ``search`` lane (:mod:`server.work`: a few at once, a bounded number waiting, the
rest refused with 503 and ``Retry-After``); the analyser searches one position at a time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import State

from play.analysis import Analyser, Evaluation
from xiangqi import STARTING_FEN, Board, Move
from xiangqi.notation import to_chinese, to_wxf
from xiangqi.pgn import replay

from ..deps import Work, analyser_of
from ..errors import error_responses
from ..play import outcome_fields, side_name, status_of
from ..schemas import AnalyseRequest, AnalyseResponse, AnalysisLine, Score

router = APIRouter(prefix="/api", tags=["analysis"])


def _score(e: Evaluation) -> Score:
    return Score(cp=e.cp, mate=e.mate)


def _notations(board: Board, moves: list[Move]) -> tuple[list[str], list[str]]:
    walk, wxf, chinese = board.copy(), [], []
    for move in moves:
        wxf.append(to_wxf(walk, move))
        chinese.append(to_chinese(walk, move))
        walk.push(move)
    return wxf, chinese


def analyse_board(analyser: Analyser, board: Board, nodes: int, multipv: int) -> AnalyseResponse:
    """The answer of ``POST /api/analyse`` for ``board`` (its moves on the stack)."""
    analysis = analyser.position(board, nodes, multipv)
    lines = []
    for line in analysis.lines:
        wxf, chinese = _notations(board, line.pv)
        lines.append(AnalysisLine(move=line.move.uci(), wxf=wxf[0], chinese=chinese[0],
                                  score=_score(line.evaluation), wdl=list(line.evaluation.wdl),
                                  pv=[m.uci() for m in line.pv], pv_wxf=wxf, pv_chinese=chinese))
    result, termination = outcome_fields(board.outcome())
    e = analysis.evaluation
    return AnalyseResponse(fen=board.fen(), turn=side_name(board.turn), wdl=list(e.wdl), score=_score(e),
                           lines=lines, nodes=analysis.nodes, status=status_of(termination), result=result,
                           termination=termination)


def _analyse(state: State, req: AnalyseRequest) -> AnalyseResponse:
    board = replay(STARTING_FEN if req.fen is None else req.fen, req.moves)
    return analyse_board(analyser_of(state), board, req.nodes, req.multipv)


@router.post("/analyse", response_model=AnalyseResponse, responses=error_responses(400, 413, 422, 503))
async def analyse(req: AnalyseRequest, request: Request, work: Work) -> AnalyseResponse:
    """Evaluate a position (start FEN plus moves; neither: the start) with the search: win/draw/loss
    and score from Red's side, and the best lines. A finished game is evaluated exactly, with no
    lines."""
    return await work.run("search", _analyse, request.app.state, req)
