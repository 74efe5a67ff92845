"""Bounded work for every request (issue 28): the model's moves and the searches run in lanes of
bounded size (server.work), the overflow is refused at once with 503 and ``Retry-After``,
``/api/health`` and static files never wait behind them, and the game cache is bounded by the moves
it holds, not only by its number of games."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from test_server import SlowPolicy
from test_server_restart import _free_port, _serve, _stop

from server import create_app
from server.db import StoredGame
from server.play import GameCache
from server.work import LANES, Lane
from xiangqi import STARTING_FEN, Board


def test_moves_beyond_the_lane_are_refused_at_once_and_health_answers(shipped_policy, tmp_path):
    """One move runs and one waits; a third is refused with 503 and Retry-After before the first is
    done, the health check and a static file answer while they think, and the two admitted ones
    are answered."""
    app = create_app(SlowPolicy(shipped_policy, 1.0), f"sqlite:///{tmp_path / 'g.db'}",
                     lanes={"play": Lane(running=1, waiting=1, retry_after=3), "search": Lane(1, 0)})

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            admitted = [asyncio.create_task(ac.post("/api/move", json={})) for _ in range(2)]
            await asyncio.sleep(0.1)
            refused = await ac.post("/api/move", json={})
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "3" and "busy" in refused.json()["detail"]
            for path in ("/api/health", "/", "/api/levels"):
                assert (await ac.get(path)).status_code == 200
            assert not any(t.done() for t in admitted)
            assert [(await t).status_code for t in admitted] == [200, 200]
            assert (await ac.post("/api/move", json={})).status_code == 200  # room again

    asyncio.run(scenario())


def test_a_full_search_lane_refuses_analyses_and_searching_moves(shipped_policy, tmp_path):
    app = create_app(shipped_policy, f"sqlite:///{tmp_path / 'g.db'}",
                     lanes={"play": Lane(4, 4), "search": Lane(running=1, waiting=0, retry_after=7)})

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            game = (await ac.post("/api/games", json={"level": "expert"})).json()  # no search yet
            running = asyncio.create_task(ac.post("/api/analyse", json={"nodes": 400}))
            await asyncio.sleep(0.1)
            for r in [await ac.post("/api/analyse", json={"nodes": 1}),
                      await ac.post(f"/api/games/{game['id']}/moves", json={"move": "h2e2"},
                                    headers={"X-Game-Secret": game["secret"]})]:
                assert r.status_code == 503 and r.headers["retry-after"] == "7", r.text
            assert (await ac.post("/api/move", json={})).status_code == 200  # the play lane is free
            assert (await running).status_code == 200
            assert len((await ac.get(f"/api/games/{game['id']}")).json()["moves"]) == 0

    asyncio.run(scenario())


def test_an_app_started_again_still_runs_its_work(shipped_policy):
    """Stopping an app stops its lanes' threads; starting it again makes new ones."""
    app = create_app(shipped_policy, "sqlite://")
    for _ in range(2):
        with TestClient(app) as client:
            assert client.post("/api/move", json={}).status_code == 200


# ---------------------------------------------------------------- the game cache

def random_moves(n: int, seed: int) -> list[str]:
    rng, board = random.Random(seed), Board()
    while len(board.move_stack) < n and board.outcome() is None:
        board.push(rng.choice(board.legal_moves))
    return [m.uci() for m in board.move_stack]


def stored(moves: list[str], game_id: str) -> StoredGame:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return StoredGame(id=game_id, created_at=now, updated_at=now, start_fen=STARTING_FEN, moves=moves,
                      human_side="red", level="master", result="*", termination=None)


def serve(cache: GameCache, game: StoredGame) -> None:
    cache.records(game, cache.board(game))


def test_the_game_cache_is_bounded_by_the_moves_it_holds():
    cache = GameCache(size=100, plies=100)
    moves = random_moves(40, seed=1)
    for game_id in ("a", "b", "c"):
        serve(cache, stored(moves, game_id))
    assert len(cache) == 2 and cache.plies_held == 80  # the oldest forgotten: 120 moves > 100
    serve(cache, stored(moves[:10], "b"))  # a take-back frees its moves
    assert cache.plies_held == 50
    serve(cache, stored(random_moves(101, seed=2), "long"))  # larger than the whole cache: not kept
    assert len(cache) == 2 and cache.plies_held == 50
    serve(cache, stored(random_moves(90, seed=3), "d"))  # c (40) goes, b (10) stays
    assert cache.plies_held == 100 and len(cache) == 2


# ---------------------------------------------------------------- under load (slow)

@pytest.mark.slow
def test_health_answers_within_half_a_second_with_70_analyses_in_flight(tmp_path):
    """``xqgpt serve`` (the default lanes) gets 70 concurrent analyses of 100 playouts: the overflow
    is refused at once (503 with Retry-After) and, while the admitted ones run, the health check
    answers within 0.5 s and a static file within 1 s (each timer started before the request is
    sent, from a client of their own); the admitted ones are answered."""
    port = _free_port()
    proc = _serve(f"sqlite:///{tmp_path / 'games.db'}", port)

    async def timed(ac: httpx.AsyncClient, path: str) -> float:
        start = time.perf_counter()
        assert (await ac.get(path)).status_code == 200
        return time.perf_counter() - start

    async def flood() -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        base = f"http://127.0.0.1:{port}"
        async with (httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as ac,
                    httpx.AsyncClient(base_url=base, timeout=600) as monitor):  # as a load balancer's
            first = await ac.post("/api/analyse", json={"nodes": 1})  # loads the value net
            assert first.status_code == 200
            jobs = [asyncio.create_task(ac.post("/api/analyse", json={"nodes": 100})) for _ in range(70)]
            admitted = LANES["search"].running + LANES["search"].waiting
            while sum(j.done() for j in jobs) < len(jobs) - admitted:  # the overflow is refused at once
                await asyncio.sleep(0.05)
            health, static = [], []
            while not all(j.done() for j in jobs):
                health.append(await timed(monitor, "/api/health"))
                static.append(await timed(monitor, "/style.css"))
                await asyncio.sleep(0.2)
            answers = [await j for j in jobs]
        assert health and max(health) < 0.5, health
        assert max(static) < 1.0, static  # a few hops through worker threads (47 s before the lanes)
        refused = [r for r in answers if r.status_code == 503]
        assert len(refused) == len(jobs) - admitted and all(r.headers["retry-after"] == "5" for r in refused)
        assert all(r.status_code == 200 for r in answers if r not in refused)

    try:
        asyncio.run(flood())
    finally:
        _stop(proc)
