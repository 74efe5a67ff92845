"""What the routes share, handed to them through FastAPI's ``Depends``: the game store, the
served model, the random source, the analyser, and the game id path parameter."""

from __future__ import annotations

import random
import re
import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam
from pydantic import BeforeValidator

from play.analysis import Analyser
from play.search import Search, search_for

from .db import GameStore
from .play import ServedModel

MAX_GAME_ID = 2**31 - 1


def get_store(request: Request) -> GameStore:
    return request.app.state.store


def get_model(request: Request) -> ServedModel:
    return request.app.state.model


def get_rng(request: Request) -> random.Random:
    return request.app.state.rng


_ANALYSER_LOCK = threading.Lock()


def get_analyser(request: Request) -> Analyser:
    """The app's analyser, made on first use: its own search over the served policy, sharing the
    value net of the playing search (:class:`~model.network.ModelLoadError` when it is missing)."""
    state = request.app.state
    with _ANALYSER_LOCK:
        if getattr(state, "analyser", None) is None:
            policy = state.model.policy
            state.analyser = Analyser(Search(policy, search_for(policy).value))
        return state.analyser


def _plain_digits(value: object) -> object:
    """Game ids are written in plain digits: ``' 2'``, ``'+2'`` or ``'02'`` name no game."""
    if isinstance(value, str) and not re.fullmatch(r"[1-9][0-9]*", value):
        raise ValueError(f"a game id is a whole number from 1 in plain digits, not {value[:20]!r}")
    return value


Store = Annotated[GameStore, Depends(get_store)]
Model = Annotated[ServedModel, Depends(get_model)]
Rng = Annotated[random.Random, Depends(get_rng)]
AnalyserDep = Annotated[Analyser, Depends(get_analyser)]
GameId = Annotated[int, BeforeValidator(_plain_digits),
                   PathParam(ge=1, le=MAX_GAME_ID, description="game id")]
