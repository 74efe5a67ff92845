"""Does ``/api/health`` (and a static file) answer while the server is flooded with analyses?

Starts ``xqgpt serve`` (the shipped model, a throwaway SQLite file) on a free loopback port, sends
``--analyses`` concurrent ``POST /api/analyse`` (``--nodes`` playouts each) and, while they are in
flight, times ``GET /api/health`` and ``GET /`` every ``--every`` seconds (each timer starts before
the request is sent; a client of their own, as a load balancer's health checks are) until the last
analysis is answered. Prints the health latencies, how the
analyses were answered (200, or 429/503 with ``Retry-After`` when the server's queue is full) and
when the last one was; the last line is JSON.

    .venv/bin/python bench/bench_health.py --analyses 70 --nodes 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "xqgpt", "serve", "--port", str(port), "--db", db_url]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"xqgpt serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("xqgpt serve did not start within 300 s")


async def timed(client: httpx.AsyncClient, method: str, path: str, **kw) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    r = await client.request(method, path, **kw)
    return time.perf_counter() - start, r


async def flood(base: str, analyses: int, nodes: int, every: float) -> dict:
    limits = httpx.Limits(max_connections=analyses + 10, max_keepalive_connections=analyses + 10)
    async with (httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client,
                httpx.AsyncClient(base_url=base, timeout=600) as monitor):
        await client.post("/api/analyse", json={"nodes": 1})  # load the value net first
        await monitor.get("/")
        start = time.perf_counter()
        jobs = [asyncio.create_task(timed(client, "POST", "/api/analyse", json={"nodes": nodes}))
                for _ in range(analyses)]
        await asyncio.sleep(0.2)  # the analyses are in flight
        health, static = [], []
        while not all(j.done() for j in jobs):
            elapsed, r = await timed(monitor, "GET", "/api/health")
            assert r.status_code == 200, r.text
            health.append(elapsed)
            elapsed, r = await timed(monitor, "GET", "/")
            assert r.status_code == 200
            static.append(elapsed)
            await asyncio.sleep(every)
        answers = [await j for j in jobs]
        last = time.perf_counter() - start
    statuses = Counter(r.status_code for _, r in answers)
    retry = sorted({r.headers.get("retry-after") for _, r in answers if r.status_code in (429, 503)})
    return {"analyses": analyses, "nodes": nodes, "statuses": dict(statuses), "retry_after": retry,
            "health_first_ms": round(health[0] * 1000, 1), "health_max_ms": round(max(health) * 1000, 1),
            "health_checks": len(health), "static_max_ms": round(max(static) * 1000, 1),
            "last_answer_s": round(last, 1),
            "health_ms": [round(x * 1000) for x in health], "static_ms": [round(x * 1000) for x in static]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--analyses", type=int, default=70)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between health checks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(f"sqlite:///{Path(tmp) / 'games.db'}", Path(tmp) / "serve.log")
        try:
            result = asyncio.run(flood(base, args.analyses, args.nodes, args.every))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"health: first {result['health_first_ms']} ms, worst {result['health_max_ms']} ms over "
          f"{result['health_checks']} checks; static file worst {result['static_max_ms']} ms")
    print(f"analyses answered: {result['statuses']} (Retry-After {result['retry_after']}), "
          f"the last after {result['last_answer_s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
