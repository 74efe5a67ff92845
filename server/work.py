"""Bounded queues for the heavy work of requests: the model's moves, imports and searches.

Each kind of work has its own :class:`Lane`: at most ``running`` requests of that kind run at once,
each in a worker thread of its own (outside the threadpool that serves static files and the
database), and at most ``waiting`` more wait for a turn. A request beyond those is refused at once
with :class:`Overloaded` (HTTP 503 with ``Retry-After``) instead of queueing without end, so the
server's answers stay prompt under any load and ``/api/health`` never waits behind a search.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

T = TypeVar("T")


class Overloaded(RuntimeError):
    """Too many requests of one kind are running and waiting: try again in ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Lane:
    """How many requests of one kind run at once, how many more may wait, and the ``Retry-After``
    (seconds) that a refused request is given."""

    running: int
    waiting: int
    retry_after: int = 1


# ``play``: the model's move (a forward pass, the 2-ply check of `master`), a new game, an import.
# Concurrent moves share the model's forward passes, so a few dozen run at once.
# ``search``: analyses and the searching levels' moves (about a second of the CPU each).
LANES: dict[str, Lane] = {"play": Lane(running=16, waiting=48, retry_after=1),
                          "search": Lane(running=2, waiting=14, retry_after=5)}


class WorkQueue:
    """Runs a blocking function on the worker threads of its lane when the lane has room (see the
    module docstring): each lane has a thread pool of its own, of ``running`` threads."""

    def __init__(self, lanes: dict[str, Lane] | None = None) -> None:
        self.lanes = dict(lanes or LANES)
        self._pools: dict[str, ThreadPoolExecutor] = {}  # made on first use, again after close()
        self._admitted = dict.fromkeys(self.lanes, 0)
        self._lock = threading.Lock()

    async def run(self, lane: str, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on a worker thread of ``lane``; :class:`Overloaded` when the lane is full."""
        spec = self.lanes[lane]
        with self._lock:
            if self._admitted[lane] >= spec.running + spec.waiting:
                raise Overloaded(f"the server is busy ({spec.running} {lane} requests running and "
                                 f"{spec.waiting} waiting); try again in {spec.retry_after} s",
                                 spec.retry_after)
            self._admitted[lane] += 1
            if lane not in self._pools:
                self._pools[lane] = ThreadPoolExecutor(spec.running, thread_name_prefix=f"xqgpt-{lane}")
            pool = self._pools[lane]
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args))
        finally:
            with self._lock:
                self._admitted[lane] -= 1

    def close(self) -> None:
        """Stop the worker threads once their work is done (an app started again makes new ones)."""
        with self._lock:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
