"""Saved games survive a restart: a new app (and a new ``xqgpt serve`` process) on the same database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server import create_app
from server.db import Base, GameStore


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh SQLite file, and a PostgreSQL database when $XQGPT_TEST_POSTGRES gives its URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'games.db'}"
    url = os.environ.get("XQGPT_TEST_POSTGRES")
    if not url:
        pytest.skip("set XQGPT_TEST_POSTGRES=postgresql://user:password@host/db to test PostgreSQL")
    store = GameStore(url)
    Base.metadata.drop_all(store.engine)  # start empty
    store.close()
    return url


def test_games_survive_a_new_app(shipped_policy, db_url):
    with TestClient(create_app(shipped_policy, db_url)) as c:
        new = c.post("/api/games", json={"side": "black", "level": "club"}).json()
        played = c.post(f"/api/games/{new['id']}/moves", json={"move": new["legal_moves"][0]}).json()["game"]
        resigned = c.post("/api/games").json()
        resigned = c.post(f"/api/games/{resigned['id']}/resign").json()
    with TestClient(create_app(shipped_policy, db_url)) as c:
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


def _serve(db_url: str, port: int) -> subprocess.Popen:
    """Start ``xqgpt serve`` and wait until it answers."""
    cmd = [sys.executable, "-m", "xqgpt", "serve", "--port", str(port), "--db", db_url]
    if os.environ.get("XQGPT_MODEL"):
        cmd += ["--model", os.environ["XQGPT_MODEL"]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"xqgpt serve exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("xqgpt serve did not start within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def test_xqgpt_serve_restart(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'games.db'}"
    port = _free_port()
    proc = _serve(db_url, port)
    try:
        base = f"http://127.0.0.1:{port}"
        game = httpx.post(f"{base}/api/games", json={}).json()
        r = httpx.post(f"{base}/api/games/{game['id']}/moves", json={"move": "h2e2"}, timeout=30)
        state = r.json()["game"]
        assert "<svg" in httpx.get(f"{base}/").text
        _assert_errors_are_json(base, port)
    finally:
        _stop(proc)
    proc = _serve(db_url, port)
    try:
        assert httpx.get(f"{base}/api/games/{game['id']}").json() == state
    finally:
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

