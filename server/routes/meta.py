"""``/api/health`` and ``/api/levels``."""

from __future__ import annotations

from fastapi import APIRouter

from play.levels import DEFAULT_LEVEL, LEVELS

from ..deps import Model, Store
from ..schemas import Health, Level, LevelList

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
async def health(model: Model, store: Store) -> Health:
    """The server is up and the model is loaded."""
    return Health(status="ok", model=model.source, database=store.engine.dialect.name)


@router.get("/levels", response_model=LevelList)
async def levels() -> LevelList:
    """Playing levels of the model."""
    return LevelList(levels=[Level(name=k, description=v) for k, v in LEVELS.items()], default=DEFAULT_LEVEL)
