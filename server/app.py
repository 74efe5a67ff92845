"""The FastAPI application: the routers of :mod:`server.routes`, the shared objects they depend on
(``app.state``: the store, the served model, the random source), the error handlers, and the web
board at ``/``.
"""

from __future__ import annotations

import argparse
import random
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .db import GameStore, default_db_url
from .errors import MAX_BODY_BYTES, BodyLimit, JsonErrorsH11, install_error_handlers
from .play import ServedModel
from .routes import ROUTERS

if TYPE_CHECKING:
    from model.policy import Policy

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def create_app(policy: Policy | None = None, db_url: str | None = None, *,
               model_path: str | None = None) -> FastAPI:
    """The application. ``policy`` defaults to ``Policy.load(model_path)``, ``db_url`` to SQLite
    in the user data dir (:func:`server.db.default_db_url`)."""
    if policy is None:
        from model.policy import Policy

        policy = Policy.load(model_path)
    store = GameStore(db_url or default_db_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        store.close()

    app = FastAPI(title="Xiangqi-GPT", version="0.1.0", lifespan=lifespan,
                  description="Play xiangqi against a GPT-2 move model: stateless move API and saved games.")
    app.state.store = store
    app.state.model = ServedModel(policy, model_path or "shipped default model")
    app.state.rng = random.SystemRandom()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    for router in ROUTERS:
        app.include_router(router)
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def main(args: argparse.Namespace) -> int:
    """``xqgpt serve``: load the model once and serve the API and the board with uvicorn."""
    import uvicorn

    from model.policy import Policy

    policy = Policy.load(args.model)
    db_url = args.db or default_db_url()
    app = create_app(policy, db_url, model_path=args.model)
    print(f"xqgpt: serving on http://{args.host}:{args.port}/  (games in {db_url})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", http=JsonErrorsH11)
    return 0
