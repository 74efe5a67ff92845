"""Saved games survive a restart: a new app (and a new ``xqgpt serve`` process) on the same database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from server import create_app
from server.app import threads_per_worker
from server.db import new_secret

PLAYER = {"X-Game-Secret": new_secret()}  # the player of every game here


def test_games_survive_a_new_app(shipped_policy, db_url):
    with TestClient(create_app(shipped_policy, db_url), headers=PLAYER) as c:
        new = c.post("/api/games", json={"side": "black", "level": "club"}).json()
        played = c.post(f"/api/games/{new['id']}/moves", json={"move": new["legal_moves"][0]}).json()["game"]
        resigned = c.post("/api/games").json()
        resigned = c.post(f"/api/games/{resigned['id']}/resign").json()
    with TestClient(create_app(shipped_policy, db_url), headers=PLAYER) as c:
        for before in (played, resigned):
            after = c.get(f"/api/games/{before['id']}").json()
            assert after == before
        assert c.get("/api/games").json()["total"] == 2
        r = c.post(f"/api/games/{played['id']}/moves", json={"move": played["legal_moves"][0]})
        assert r.status_code == 200 and len(r.json()["game"]["moves"]) == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db_url: str, port: int, *options: str) -> subprocess.Popen:
    """Start ``xqgpt serve`` and wait until it answers."""
    cmd = [sys.executable, "-m", "xqgpt", "serve", "--port", str(port), "--db", db_url, *options]
    if os.environ.get("XQGPT_MODEL"):
        cmd += ["--model", os.environ["XQGPT_MODEL"]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300  # each worker loads its own model: slow on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"xqgpt serve exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("xqgpt serve did not start within 300 s")


def _stop(proc: subprocess.Popen) -> None:
    """Stop a server as a service manager would: SIGTERM, then SIGKILL if it has not exited in a minute."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_xqgpt_serve_restart(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'games.db'}"
    port = _free_port()
    proc = _serve(db_url, port)
    try:
        base = f"http://127.0.0.1:{port}"
        game = httpx.post(f"{base}/api/games", json={}, headers=PLAYER).json()
        r = httpx.post(f"{base}/api/games/{game['id']}/moves", json={"move": "h2e2"}, headers=PLAYER,
                       timeout=30)
        state = r.json()["game"]
        assert "<svg" in httpx.get(f"{base}/").text
        _assert_errors_are_json(base, port)
    finally:
        _stop(proc)
    proc = _serve(db_url, port)
    try:
        assert httpx.get(f"{base}/api/games/{game['id']}", headers=PLAYER).json() == state
    finally:
        _stop(proc)


def test_server_processes_on_one_database_never_fork_a_game(db_url):
    """Two ``xqgpt serve`` on one database, the first with two worker processes, get the same move
    for one game at once: exactly one request stores it (with the model's reply), the others are
    refused with 409 (the game changed under them) or 422 (the move is no longer legal), the
    server that lost the race among them, and every process then reads the same game."""
    ports = [_free_port(), _free_port()]
    with ThreadPoolExecutor(2) as starting:  # both load their models at once
        started = [starting.submit(_serve, db_url, ports[0], "--workers", "2"),
                   starting.submit(_serve, db_url, ports[1])]
    procs = [s.result() for s in started if s.exception() is None]
    try:
        assert len(procs) == 2, [str(s.exception()) for s in started]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        game = httpx.post(f"{bases[0]}/api/games", json={}, headers=PLAYER).json()
        start = threading.Barrier(12)
        answers: list[tuple[int, httpx.Response]] = []

        def play(i: int) -> None:
            start.wait()
            r = httpx.post(f"{bases[i % 2]}/api/games/{game['id']}/moves", json={"move": "h2e2"},
                           headers=PLAYER, timeout=120)
            answers.append((i % 2, r))

        threads = [threading.Thread(target=play, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [(server, r) for server, r in answers if r.status_code == 200]
        assert len(won) == 1, [r.text for _, r in answers]
        assert {r.status_code for _, r in answers} <= {200, 409, 422}
        winner, stored = won[0][0], won[0][1].json()["game"]
        # the other server was refused too: 409 when it read the game before the winner's write
        # committed, 422 when after (which of the two is a matter of timing)
        assert any(server != winner and r.status_code in (409, 422) for server, r in answers)
        assert [m["iccs"] for m in stored["moves"]][0] == "h2e2" and len(stored["moves"]) == 2
        for base in bases * 2:  # each worker behind the first port, probably
            assert httpx.get(f"{base}/api/games/{game['id']}", headers=PLAYER).json() == stored
        for _ in range(4):  # the two workers share the cores out
            assert httpx.get(f"{bases[0]}/api/health").json()["threads"] == threads_per_worker(2)
    finally:
        for proc in procs:
            _stop(proc)


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to the server; the status, headers and body of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def _assert_errors_are_json(base: str, port: int) -> None:
    """A body that is not JSON is 400, and so is a request uvicorn cannot parse: JSON both."""
    r = httpx.post(f"{base}/api/move", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "json" in r.json()["detail"].lower()
    for request in (b"POST /api/move HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
                    b"GET /api/health HTTP/1.1\r\nHost x\r\n\r\n",
                    b"NOT HTTP AT ALL\r\n\r\n"):
        status, headers, body = _raw(port, request)
        assert status == 400 and headers["content-type"] == "application/json", (request, headers, body)
        assert "bad http request" in json.loads(body)["detail"].lower()

