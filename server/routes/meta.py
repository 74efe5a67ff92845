"""``/api/health`` and ``/api/levels``."""

from __future__ import annotations

import torch
from fastapi import APIRouter, Request

from play.levels import DEFAULT_LEVEL, LEVELS, THINKING_MS
from play.ratings import level_ratings

from ..schemas import Health, Level, LevelList

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    """The server is up and the model is loaded. It reads only ``app.state``, on the event loop
    (no dependency that FastAPI would run in its threadpool), so it answers while searches run."""
    state = request.app.state
    return Health(status="ok", model=state.model.source, database=state.store.engine.dialect.name,
                  threads=torch.get_num_threads())


@router.get("/levels", response_model=LevelList)
async def levels() -> LevelList:
    """Playing levels of the model, with their measured ratings."""
    ratings = level_ratings()
    levels = [Level(name=k, description=v, thinking_ms=THINKING_MS.get(k),
                    rating=ratings[k]["elo"] if k in ratings else None,
                    rating_95=(ratings[k]["low"], ratings[k]["high"]) if k in ratings else None)
              for k, v in LEVELS.items()]
    return LevelList(levels=levels, default=DEFAULT_LEVEL)
