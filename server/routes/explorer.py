"""``GET /api/explorer``: what master games played in a position, how they went, and the model's
probability for the same moves. The index is read-only (:class:`data.explorer.Explorer`), opened
on first use from ``app.state.explorer_location`` (``xqgpt serve --explorer``; the shipped index
by default).
"""

from __future__ import annotations

import re
import threading
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from data.explorer import Explorer, Stats
from xiangqi import STARTING_FEN, Board, Move
from xiangqi.notation import to_chinese, to_wxf
from xiangqi.pgn import replay

from ..deps import Model, Work
from ..errors import error_responses
from ..play import side_name
from ..schemas import MAX_FEN, MAX_PLIES, Side

router = APIRouter(prefix="/api", tags=["explorer"])
MODEL_EXTRA = 3  # the model's likeliest moves that no game played, listed after the games' moves


class ResultCounts(BaseModel):
    """Games and how they ended; games without a recorded result count in none of the three."""

    games: int
    red: int = Field(description="games Red won")
    draws: int
    black: int = Field(description="games Black won")
    rating: int | None = Field(description="the players' mean rating over the games whose records have one")


class ExplorerMove(ResultCounts):
    move: str = Field(description="ICCS")
    wxf: str
    chinese: str
    p: float | None = Field(description="the model's probability of the move (null when not asked)")


class ExampleGameOut(BaseModel):
    id: int
    red: str | None
    black: str | None
    red_elo: int | None
    black_elo: int | None
    event: str | None
    year: int | None
    result: str
    move: str = Field(description="the move the game played in this position (ICCS)")
    fen: str = Field(description="the game's start position")
    moves: list[str] = Field(description="the game's moves (ICCS)")


class ExplorerResponse(BaseModel):
    fen: str
    turn: Side
    position: ResultCounts | None = Field(description="null when no game of the index reached the position")
    moves: list[ExplorerMove] = Field(description="the games' moves, most played first, then the model's "
                                      "likeliest moves that no game played (games 0)")
    examples: list[ExampleGameOut]
    index: dict = Field(description="how the index was built (sources, plies, min_games, games, positions)")


FenQuery = Annotated[str, Query(max_length=MAX_FEN, description="start FEN")]
MovesQuery = Annotated[str, Query(max_length=MAX_PLIES * 5,
                                  description="ICCS moves from the FEN, separated by spaces or commas")]
ProbabilitiesQuery = Annotated[bool, Query(description="add the model's probability of each move")]
_LOCK = threading.Lock()


def get_explorer(request: Request) -> Explorer:
    """The app's explorer index, opened on first use (503 when there is none)."""
    state = request.app.state
    with _LOCK:
        if getattr(state, "explorer", None) is None:
            try:
                state.explorer = Explorer(getattr(state, "explorer_location", None))
            except Exception as e:  # a missing file, a bad URL or a database without the tables
                raise HTTPException(503, f"no opening explorer index: {e} (build one with `xqgpt data "
                                    "explorer SRC... --out FILE`, serve it with --explorer)") from e
        return state.explorer


def _notations(board: Board, uci: str) -> dict:
    move = Move.from_uci(uci)
    return {"wxf": to_wxf(board, move), "chinese": to_chinese(board, move)}


def _counts(stats: Stats) -> dict:
    return {"games": stats.games, "red": stats.red, "draws": stats.draws, "black": stats.black,
            "rating": stats.rating}


@router.get("/explorer", response_model=ExplorerResponse, responses=error_responses(422, 503))
async def explorer(request: Request, model: Model, work: Work, fen: FenQuery = STARTING_FEN,
                   moves: MovesQuery = "", probabilities: ProbabilitiesQuery = True) -> ExplorerResponse:
    """The games' moves in a position (start FEN plus moves), with counts, results, mean ratings,
    example games and the model's probabilities (in the work queue's ``play`` lane: 503 with
    Retry-After when it is full)."""
    return await work.run("play", _explore, request, model, fen, moves, probabilities)


def _explore(request: Request, model: Model, fen: str, moves: str, probabilities: bool) -> ExplorerResponse:
    board = replay(fen, [m for m in re.split(r"[\s,]+", moves) if m])
    entry = get_explorer(request).lookup(board)
    p = {m.uci(): prob for m, prob in model.policy.candidates(board)} if probabilities else {}
    rows = [ExplorerMove(move=m.move, **_counts(m.stats), p=round(p[m.move], 4) if m.move in p else None,
                         **_notations(board, m.move)) for m in entry.moves]
    listed = {m.move for m in entry.moves}
    extra = [u for u in p if u not in listed][:MODEL_EXTRA]
    rows += [ExplorerMove(move=u, games=0, red=0, draws=0, black=0, rating=None, p=round(p[u], 4),
                          **_notations(board, u)) for u in extra]
    return ExplorerResponse(fen=board.fen(), turn=side_name(board.turn),
                            position=ResultCounts(**_counts(entry.stats)) if entry.stats else None,
                            moves=rows, examples=[ExampleGameOut(**vars(g)) for g in entry.examples],
                            index=get_explorer(request).meta)
