"""``/api/health`` and ``/api/levels``."""

from __future__ import annotations

import torch
from fastapi import APIRouter

from play.levels import DEFAULT_LEVEL, LEVELS, THINKING_SECONDS
from play.ratings import level_ratings

from ..deps import Model, Store
from ..schemas import Health, Level, LevelList

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
async def health(model: Model, store: Store) -> Health:
    """The server is up and the model is loaded."""
    return Health(status="ok", model=model.source, database=store.engine.dialect.name,
                  threads=torch.get_num_threads())


@router.get("/levels", response_model=LevelList)
async def levels() -> LevelList:
    """Playing levels of the model, with their measured ratings."""
    thinking = {k: round(seconds * 1000) for k, seconds in THINKING_SECONDS.items()}
    ratings = level_ratings()
    levels = [Level(name=k, description=v, thinking_ms=thinking.get(k),
                    rating=ratings[k]["elo"] if k in ratings else None,
                    rating_95=(ratings[k]["low"], ratings[k]["high"]) if k in ratings else None)
              for k, v in LEVELS.items()]
    return LevelList(levels=levels, default=DEFAULT_LEVEL)
