"""Load benchmark: concurrent clients play whole games against ``xqgpt serve`` on loopback.

Starts the server in a subprocess (the shipped model, a throwaway SQLite file) unless ``--url``
points at a running one. For each think time in ``--think``, every client thread starts games and
plays random legal moves, pausing that long before each move, until the game ends, ``--max-moves``
is reached, or the scenario's ``--duration`` runs out; every move request includes the model's
reply. Think time 0 is a closed loop that measures peak throughput (latency is then set by the
queue: clients / throughput); a pause like a quick human's measures interactive latency.
Prints a Markdown table (moves/s, latency percentiles) and writes a latency histogram PNG.

    .venv/bin/python bench/bench_server.py --clients 16 --think 1 0 --duration 30
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np


@dataclass
class Stats:
    """What all clients measured (appended under a lock)."""

    latencies_ms: list[float] = field(default_factory=list)
    games_started: int = 0
    games_finished: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str | None, db_url: str) -> tuple[subprocess.Popen, str]:
    """``xqgpt serve`` on a free loopback port; returns the process and its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "xqgpt", "serve", "--port", str(port), "--db", db_url]
    if model:
        cmd += ["--model", model]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def client(url: str, seed: int, args: argparse.Namespace, think: float, deadline: float,
           stats: Stats) -> None:
    """Play games with random legal moves, ``think`` seconds apart on average, until the deadline
    or ``args.games`` games."""
    rng = random.Random(seed)
    side = "red" if seed % 2 == 0 else "black"
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(args.games):
            if time.monotonic() >= deadline:
                return
            r = http.post("/api/games", json={"side": side, "level": args.level})
            if r.status_code != 201:
                with stats.lock:
                    stats.errors.append(f"new game: {r.status_code} {r.text[:200]}")
                return
            game = r.json()
            with stats.lock:
                stats.games_started += 1
            for _ in range(args.max_moves):
                if game["status"] != "playing" or time.monotonic() >= deadline:
                    break
                move = rng.choice(game["legal_moves"])
                time.sleep(think * rng.uniform(0.5, 1.5))
                start = time.perf_counter()
                r = http.post(f"/api/games/{game['id']}/moves", json={"move": move})
                elapsed = (time.perf_counter() - start) * 1000
                if r.status_code != 200:
                    with stats.lock:
                        stats.errors.append(f"move {move}: {r.status_code} {r.text[:200]}")
                    break
                game = r.json()["game"]
                with stats.lock:
                    stats.latencies_ms.append(elapsed)
            if game["status"] == "finished":
                with stats.lock:
                    stats.games_finished += 1


def summary(stats: Stats, clients: int, think: float, wall_s: float) -> dict[str, str]:
    """One table row: the scenario and what it measured."""
    lat = np.array(stats.latencies_ms) if stats.latencies_ms else np.array([float("nan")])
    p50, p90, p99 = np.percentile(lat, [50, 90, 99])
    return {"clients": f"{clients}", "think (s)": f"{think:g}",
            "games started / finished": f"{stats.games_started} / {stats.games_finished}",
            "moves": f"{len(stats.latencies_ms)}", "errors": f"{len(stats.errors)}",
            "moves/s": f"{len(stats.latencies_ms) / wall_s:.1f}", "p50 (ms)": f"{p50:.0f}",
            "p90 (ms)": f"{p90:.0f}", "p99 (ms)": f"{p99:.0f}", "max (ms)": f"{np.max(lat):.0f}"}


def markdown(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def plot(results: list[tuple[float, Stats]], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    top = max(max(s.latencies_ms, default=1.0) for _, s in results)
    bins = np.linspace(0, top, 60)
    for (think, stats), color in zip(results, ("#b3161b", "#1f6feb", "#2b8a3e", "#7048e8"), strict=False):
        lat = np.array(stats.latencies_ms)
        if not len(lat):
            continue
        p99 = np.percentile(lat, 99)
        ax.hist(lat, bins=bins, color=color, alpha=0.6, label=f"think {think:g} s: p99 {p99:.0f} ms")
        ax.axvline(p99, color=color, linestyle=":")
    ax.axvline(300, color="black", linestyle="--", label="300 ms target")
    ax.set_xlabel("move request latency (ms, includes the model's reply)")
    ax.set_ylabel("requests")
    ax.set_title(f"xqgpt serve: {args.clients} clients, level {args.level}")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    from play.levels import DEFAULT_LEVEL

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--games", type=int, default=2, help="games per client at most")
    p.add_argument("--max-moves", type=int, default=60, help="human moves per game at most")
    p.add_argument("--think", type=float, nargs="+", default=[1.0, 0.0],
                   help="mean pause before each move, one scenario per value (seconds)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of play per scenario at most")
    p.add_argument("--level", default=DEFAULT_LEVEL)
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--url", default=None, help="benchmark a running server instead of starting one")
    p.add_argument("--png", default="bench/server_latency.png")
    args = p.parse_args()

    proc = None
    results: list[tuple[float, Stats]] = []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            proc, url = start_server(args.model, f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            for think in args.think:
                stats = Stats()
                start = time.monotonic()
                deadline = start + args.duration
                threads = [threading.Thread(target=client, args=(url, i, args, think, deadline, stats))
                           for i in range(args.clients)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                results.append((think, stats))
                rows.append(summary(stats, args.clients, think, time.monotonic() - start))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"{args.clients} clients, level {args.level}, {args.duration:g} s per scenario\n")
    print(markdown(rows))
    errors = [e for _, stats in results for e in stats.errors]
    for err in errors[:5]:
        print("error:", err, file=sys.stderr)
    plot(results, args, Path(args.png))
    print(f"\nhistogram: {args.png}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
