"""Stateless positions: ``POST /api/move`` (the model's move) and ``GET /api/legal``. Nothing is stored.

The model's move runs in the work queue's ``play`` lane (:mod:`server.work`), so the event loop
stays free while the model thinks; the legal moves are a plain ``def`` in FastAPI's threadpool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from xiangqi import STARTING_FEN, Board
from xiangqi.pgn import replay

from ..deps import Model, Rng, Work
from ..errors import error_responses
from ..play import legal_response
from ..schemas import MAX_FEN, LegalResponse, MoveRequest, MoveResponse

router = APIRouter(prefix="/api", tags=["model"])


def _model_move(req: MoveRequest, model: Model, rng: Rng) -> MoveResponse:
    board = replay(STARTING_FEN if req.fen is None else req.fen, req.moves)
    return model.move(board, req.temperature, req.top_k, rng)


@router.post("/move", response_model=MoveResponse, responses=error_responses(400, 413, 422, 503))
async def model_move(req: MoveRequest, model: Model, rng: Rng, work: Work) -> MoveResponse:
    """The model's move in a position (no game is stored). Neither fen nor moves: the start."""
    return await work.run("play", _model_move, req, model, rng)


@router.get("/legal", response_model=LegalResponse, responses=error_responses(422))
def legal(fen: Annotated[str, Query(max_length=MAX_FEN, description="FEN")] = STARTING_FEN) -> LegalResponse:
    """Legal moves (ICCS) and the state of a position."""
    return legal_response(Board(fen))
