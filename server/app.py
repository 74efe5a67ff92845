"""The FastAPI application: the routers of :mod:`server.routes`, the shared objects they depend on
(``app.state``: the store, the games' cache, the served model, the random source, the work queue), the error
handlers, and the web board at ``/``.

``xqgpt serve --workers N`` runs N uvicorn worker processes, each building its app with
:func:`app_from_env` from the settings that :func:`main` puts in the environment.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from .db import GameStore, default_db_url
from .errors import MAX_BODY_BYTES, BodyLimit, JsonErrorsH11, install_error_handlers
from .play import GameCache
from .routes import ROUTERS
from .serving import ServedModel
from .work import Lane, WorkQueue

if TYPE_CHECKING:
    from model.policy import Policy

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def create_app(policy: Policy | None = None, db_url: str | None = None, *,
               model_path: str | None = None, explorer: str | None = None, puzzles: str | None = None,
               lanes: dict[str, Lane] | None = None, analysis_engine: str | None = None) -> FastAPI:
    """The application. ``policy`` defaults to ``Policy.load(model_path)``, ``db_url`` to SQLite
    in the user data dir (:func:`server.db.default_db_url`), ``explorer`` (the opening index's
    URL or path) to the shipped index, ``puzzles`` (a puzzle file, JSON lines) to the shipped
    ``data/puzzles.jsonl``, ``lanes`` to the work queue's :data:`server.work.LANES`;
    ``analysis_engine`` (a UCI engine spec) makes ``POST /api/analyse`` read that engine instead
    of the search (:class:`play.analysis.EngineAnalyser`)."""
    if policy is None:
        from model.policy import Policy

        policy = Policy.load(model_path)
    store = GameStore(db_url or default_db_url())
    work = WorkQueue(lanes)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if getattr(app.state, "analyser", None) is not None:
            app.state.analyser.close()
        work.close()
        store.close()

    app = FastAPI(title="Xiangqi-GPT", version="0.1.0", lifespan=lifespan,
                  description="Play xiangqi against a GPT-2 move model: stateless move API and saved games.")
    app.state.store = store
    app.state.model = ServedModel(policy, model_path or "shipped default model", model_path)
    app.state.rng = random.SystemRandom()
    app.state.work = work
    app.state.games = GameCache()
    app.state.explorer_location = explorer
    app.state.puzzles_location = puzzles
    app.state.analysis_engine = analysis_engine
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    for router in ROUTERS:
        app.include_router(router)
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def app_from_env() -> FastAPI:
    """The app of one ``xqgpt serve`` worker process (a uvicorn app factory), set up by the
    environment: ``XQGPT_MODEL`` (model directory), ``XQGPT_DB`` (database URL),
    ``XQGPT_BATCHING`` (``0`` turns batching off), ``XQGPT_THREADS`` (PyTorch threads) and
    ``XQGPT_EXPLORER`` (the opening index), ``XQGPT_PUZZLES`` (the puzzle file),
    ``XQGPT_ANALYSIS_ENGINE`` (the analysis engine)."""
    import torch

    from model.policy import Policy

    if os.environ.get("XQGPT_THREADS"):
        torch.set_num_threads(int(os.environ["XQGPT_THREADS"]))
    model_path = os.environ.get("XQGPT_MODEL") or None
    policy = Policy.load(model_path)
    if os.environ.get("XQGPT_BATCHING", "1") != "0":
        policy.batch_calls()
    app = create_app(policy, os.environ.get("XQGPT_DB"), model_path=model_path,
                     explorer=os.environ.get("XQGPT_EXPLORER") or None,
                     puzzles=os.environ.get("XQGPT_PUZZLES") or None,
                     analysis_engine=os.environ.get("XQGPT_ANALYSIS_ENGINE") or None)
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Take what a server process has loaded (the model, the rules engine's tables) out of the
    garbage collector's sight (:func:`gc.freeze`): a full collection walked all of it and stopped
    every thread, health checks included, for over a second (1.4 s measured under 70 analyses)."""
    gc.collect()
    gc.freeze()


def threads_per_worker(workers: int) -> int:
    """PyTorch threads for each of ``workers`` server processes: this machine's cores shared out
    (at least one). PyTorch's default, a thread per core in every process, oversubscribes the cores."""
    return max(1, len(os.sched_getaffinity(0)) // workers)


def main(args: argparse.Namespace) -> int:
    """``xqgpt serve``: serve the API and the board with uvicorn; with ``--workers N``, N
    processes, each with its own copy of the model, sharing the database and the cores (each
    process gets :func:`threads_per_worker` PyTorch threads, so that N processes do not fight
    over the cores). Concurrent requests share the model's forward passes
    (:meth:`Policy.batch_calls`) unless ``--no-batching``."""
    import uvicorn

    from data.puzzles import load_puzzles
    from model.policy import Policy

    puzzles = getattr(args, "puzzles", None)
    if puzzles:
        load_puzzles(puzzles)  # a missing or malformed puzzle file fails here, before serving
    policy = Policy.load(args.model)  # a bad model directory fails here, before any worker starts
    db_url = args.db or default_db_url()
    GameStore(db_url).close()  # creates the tables once (before any worker starts); a bad URL fails here
    batching = not args.no_batching
    engine = getattr(args, "analysis_engine", None)
    if engine:
        from xiangqi.engine import EngineSpec

        EngineSpec.parse(engine.removeprefix("uci:"))  # a malformed spec fails here, before serving
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    shown = make_url(db_url).render_as_string(hide_password=True)
    print(f"xqgpt: serving on http://{args.host}:{args.port}/  (games in {shown}{workers})", flush=True)
    if args.workers == 1:
        if batching:
            policy.batch_calls()
        app = create_app(policy, db_url, model_path=args.model, explorer=getattr(args, "explorer", None),
                         puzzles=puzzles, analysis_engine=engine)
        freeze_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", http=JsonErrorsH11)
        return 0
    del policy
    os.environ.update(XQGPT_DB=db_url, XQGPT_MODEL=args.model or "", XQGPT_BATCHING="1" if batching else "0",
                      XQGPT_THREADS=str(threads_per_worker(args.workers)),
                      XQGPT_EXPLORER=getattr(args, "explorer", None) or "",
                      XQGPT_PUZZLES=puzzles or "",
                      XQGPT_ANALYSIS_ENGINE=engine or "")
    # A worker answers uvicorn's health checks only once it has loaded the model: allow for a slow start.
    uvicorn.run("server.app:app_from_env", factory=True, workers=args.workers, host=args.host,
                port=args.port, log_level="info", http=JsonErrorsH11, timeout_worker_healthcheck=120)
    return 0
