"""Load benchmark: concurrent clients play whole games against ``xqgpt serve`` on loopback.

Starts the server in a subprocess (the shipped model, ``--workers`` processes, on ``--db`` or a
throwaway SQLite file) once per batching mode in ``--batching`` (``off`` is ``xqgpt serve
--no-batching``), unless ``--url`` points at a running one. For each number of clients in
``--clients`` and each think time in ``--think``, every client thread starts games and plays
random legal moves, pausing that long before each move, until the game ends, ``--max-moves`` is
reached, or the scenario's ``--duration`` runs out; every move request includes the model's
reply. Think time 0 is a closed loop that measures peak throughput (latency is then set by the
queue: clients / throughput); a pause like a quick human's measures interactive latency. At the
end of each scenario every game's stored moves are checked against the moves its client sent and
the replies it got (a lost or forked game counts as ``bad games``). Prints a Markdown table
(moves/s, latency percentiles) and writes a PNG of throughput and p99 against clients.

    .venv/bin/python bench/bench_server.py --clients 16 32 64 --think 1 0 --duration 20
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
    moves_sent: dict[int, list[str]] = field(default_factory=dict)  # game id -> its moves in ICCS
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str | None, db_url: str, workers: int,
                 batching: bool) -> tuple[subprocess.Popen, str]:
    """``xqgpt serve`` on a free loopback port; returns the process and its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "xqgpt", "serve", "--port", str(port), "--db", db_url,
           "--workers", str(workers)]
    if model:
        cmd += ["--model", model]
    if not batching:
        cmd.append("--no-batching")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 300 s")


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
            if game.get("secret"):  # a server that keeps games to their players
                http.headers["X-Game-Secret"] = game["secret"]
            sent = [m["iccs"] for m in game["moves"]]
            with stats.lock:
                stats.games_started += 1
                stats.moves_sent[game["id"]] = sent
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
                answer = r.json()
                game = answer["game"]
                sent += [answer["move"]["iccs"]] + ([answer["reply"]["move"]] if answer["reply"] else [])
                with stats.lock:
                    stats.latencies_ms.append(elapsed)
            if game["status"] == "finished":
                with stats.lock:
                    stats.games_finished += 1


def bad_games(url: str, stats: Stats) -> int:
    """Games whose stored moves differ from the moves their client sent and got back."""
    with httpx.Client(base_url=url, timeout=60) as http:
        return sum([m["iccs"] for m in http.get(f"/api/games/{game_id}").json()["moves"]] != sent
                   for game_id, sent in stats.moves_sent.items())


def summary(stats: Stats, batching: str, clients: int, think: float, wall_s: float,
            bad: int) -> dict[str, str]:
    """One table row: the scenario and what it measured."""
    lat = np.array(stats.latencies_ms) if stats.latencies_ms else np.array([float("nan")])
    p50, p90, p99 = np.percentile(lat, [50, 90, 99])
    return {"batching": batching, "clients": f"{clients}", "think (s)": f"{think:g}",
            "games started / finished": f"{stats.games_started} / {stats.games_finished}",
            "moves": f"{len(stats.latencies_ms)}", "errors": f"{len(stats.errors)}", "bad games": f"{bad}",
            "moves/s": f"{len(stats.latencies_ms) / wall_s:.1f}", "p50 (ms)": f"{p50:.0f}",
            "p90 (ms)": f"{p90:.0f}", "p99 (ms)": f"{p99:.0f}", "max (ms)": f"{np.max(lat):.0f}"}


def markdown(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def plot(rows: list[dict[str, str]], args: argparse.Namespace, path: Path) -> None:
    """Moves per second and p99 latency against the number of clients, a line per batching mode
    and think time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for batching in args.batching:
        for think in args.think:
            picked = [r for r in rows if r["batching"] == batching and float(r["think (s)"]) == think]
            clients = [int(r["clients"]) for r in picked]
            style = dict(marker="o", linestyle="-" if batching == "on" else ":",
                         label=f"batching {batching}, think {think:g} s")
            left.plot(clients, [float(r["moves/s"]) for r in picked], **style)
            right.plot(clients, [float(r["p99 (ms)"]) for r in picked], **style)
    right.axhline(300, color="black", linestyle="--", linewidth=0.8, label="300 ms target")
    for ax, label in ((left, "moves per second"), (right, "p99 latency (ms, includes the model's reply)")):
        ax.set_xlabel("clients")
        ax.set_ylabel(label)
        ax.set_xticks(args.clients)
        ax.grid(alpha=0.3)
    right.set_yscale("log")
    left.legend(fontsize=8)
    fig.suptitle(f"xqgpt serve: {args.workers} worker(s), level {args.level}, {args.duration:g} s a scenario")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_scenarios(url: str, batching: str,
                  args: argparse.Namespace) -> tuple[list[dict[str, str]], list[str]]:
    """Every (clients, think) scenario against one server: table rows and errors."""
    rows, errors = [], []
    for clients in args.clients:
        for think in args.think:
            stats = Stats()
            start = time.monotonic()
            deadline = start + args.duration
            threads = [threading.Thread(target=client, args=(url, i, args, think, deadline, stats))
                       for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - start
            rows.append(summary(stats, batching, clients, think, wall, bad_games(url, stats)))
            errors += stats.errors
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    return rows, errors


def main() -> int:
    from play.levels import DEFAULT_LEVEL

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, nargs="+", default=[16, 32, 64])
    p.add_argument("--games", type=int, default=2, help="games per client at most")
    p.add_argument("--max-moves", type=int, default=60, help="human moves per game at most")
    p.add_argument("--think", type=float, nargs="+", default=[1.0, 0.0],
                   help="mean pause before each move, one scenario per value (seconds)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of play per scenario at most")
    p.add_argument("--batching", nargs="+", choices=("off", "on"), default=["off", "on"],
                   help="server modes, one server each (default: off then on)")
    p.add_argument("--workers", type=int, default=1, help="server processes")
    p.add_argument("--db", default=None, help="database URL (default: a throwaway SQLite file)")
    p.add_argument("--level", default=DEFAULT_LEVEL)
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--url", default=None, help="benchmark a running server instead of starting one")
    p.add_argument("--png", default="bench/server_batching.png")
    args = p.parse_args()
    if args.url:
        args.batching = ["server's"]

    rows: list[dict[str, str]] = []
    errors: list[str] = []
    print(f"level {args.level}, {args.workers} worker(s), {args.duration:g} s per scenario\n")
    print("\n".join(markdown([summary(Stats(), "", 0, 0, 1, 0)]).splitlines()[:2]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for batching in args.batching:
            proc, url = None, args.url
            if url is None:
                db_url = args.db or f"sqlite:///{Path(tmp) / f'bench-{batching}.db'}"
                proc, url = start_server(args.model, db_url, args.workers, batching == "on")
            try:
                more_rows, more_errors = run_scenarios(url, batching, args)
                rows += more_rows
                errors += more_errors
            finally:
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=60)
    for err in errors[:5]:
        print("error:", err, file=sys.stderr)
    if not args.url:
        plot(rows, args, Path(args.png))
        print(f"\nplot: {args.png}")
    return 1 if errors or any(r["bad games"] != "0" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
