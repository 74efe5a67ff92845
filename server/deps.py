"""What the routes share, handed to them through FastAPI's ``Depends``: the game store, the games'
cache, the served model, the random source, the work queue, the analyser, and the game id and player
secret of a request.

Every dependency is an ``async def`` that only reads ``app.state``: FastAPI runs a plain ``def``
dependency in its threadpool, where a route whose own work is light (``/api/health``) would wait
behind whatever fills that pool. The heavy work goes through :class:`server.work.WorkQueue`.
"""

from __future__ import annotations

import random
import threading
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi import Path as PathParam
from starlette.datastructures import State

from play.analysis import Analyser, EngineAnalyser
from play.levels import THINKING_MS
from play.search import Search

from .db import GameStore
from .play import GameCache
from .serving import ServedModel
from .work import WorkQueue

GAME_ID_PATTERN = r"^[A-Za-z0-9_-]{12}$"
SECRET_PATTERN = r"^[A-Za-z0-9_-]{20,100}$"


async def get_store(request: Request) -> GameStore:
    return request.app.state.store


async def get_model(request: Request) -> ServedModel:
    return request.app.state.model


async def get_rng(request: Request) -> random.Random:
    return request.app.state.rng


async def get_work(request: Request) -> WorkQueue:
    return request.app.state.work


async def get_games(request: Request) -> GameCache:
    return request.app.state.games


_ANALYSER_LOCK = threading.Lock()


def analyser_of(state: State) -> Analyser:
    """The app's analyser, made on first use (call it from the work queue: the first call may load
    the value net): its own search over the networks of the games' searches
    (:class:`~model.network.ModelLoadError` when the value net is missing)."""
    with _ANALYSER_LOCK:
        if getattr(state, "analyser", None) is None:
            engine = getattr(state, "analysis_engine", None)  # xqgpt serve --analysis-engine
            state.analyser = EngineAnalyser(engine) if engine else Analyser(Search(state.model.networks()))
        return state.analyser


def lane_of(level: str) -> str:
    """The work queue's lane for a move at ``level``: the searching levels take the search lane."""
    return "search" if level in THINKING_MS else "play"


Store = Annotated[GameStore, Depends(get_store)]
Model = Annotated[ServedModel, Depends(get_model)]
Rng = Annotated[random.Random, Depends(get_rng)]
Work = Annotated[WorkQueue, Depends(get_work)]
Games = Annotated[GameCache, Depends(get_games)]
GameId = Annotated[str, PathParam(pattern=GAME_ID_PATTERN, description="the game's public id (12 characters "
                                  "of A-Z a-z 0-9 _ -), as links carry it")]
Secret = Annotated[str | None, Header(alias="X-Game-Secret", pattern=SECRET_PATTERN,
                                      description="the player secret that created the game (returned as "
                                      "`secret` by POST /api/games and /api/games/import)")]
