"""Batching across threads: calls that arrive together share one run of a batch function.

A :class:`Batcher` wraps a function of a list of items. Threads hand it their items with
:meth:`Batcher.submit`; one worker thread runs the function on everything that is waiting,
so that while one batch runs, the calls that arrive queue up for the next. When the queue
holds fewer than ``max_batch`` items the worker waits at most ``max_wait`` seconds for more
(the whole delay a lone caller pays). If the function fails on a batch, each of its calls is
run again alone, so that one call's error reaches only that call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Run ``run(items) -> results`` (one result per item, in order) on the items of concurrent
    :meth:`submit` calls, up to ``max_batch`` items at a time."""

    def __init__(self, run: Callable[[list[T]], list[R]], max_batch: int = 64,
                 max_wait: float = 0.002) -> None:
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be at least 1 and max_wait not negative")
        self.run = run
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._waiting: list[list[tuple[T, Future]]] = []  # one entry per submit call
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, items: list[T]) -> list[R]:
        """The results for ``items`` (computed in the worker thread, possibly batched with other
        callers' items); raises the error that computing one of them raised."""
        if not items:
            return []
        call = [(item, Future()) for item in items]
        with self._ready:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="batcher", daemon=True)
                self._worker.start()
            self._waiting.append(call)
            self._ready.notify()
        return [future.result() for _, future in call]

    def _take(self) -> list[list[tuple[T, Future]]]:
        """Wait for calls; return whole calls holding up to ``max_batch`` items (at least one call)."""
        with self._ready:
            while not self._waiting:
                self._ready.wait()
            deadline = time.monotonic() + self.max_wait
            while sum(len(c) for c in self._waiting) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            taken, count = [], 0
            while self._waiting and (not taken or count + len(self._waiting[0]) <= self.max_batch):
                count += len(self._waiting[0])
                taken.append(self._waiting.pop(0))
            return taken

    def _work(self) -> None:
        while True:
            calls = self._take()
            entries = [entry for call in calls for entry in call]
            try:
                results = self.run([item for item, _ in entries])
            except Exception:  # noqa: BLE001 - find the failing calls: run each one alone
                for call in calls:
                    self._run_alone(call)
                continue
            for (_, future), result in zip(entries, results, strict=True):
                future.set_result(result)

    def _run_alone(self, call: list[tuple[T, Future]]) -> None:
        try:
            results = self.run([item for item, _ in call])
        except Exception as e:  # noqa: BLE001 - the caller gets the error
            for _, future in call:
                future.set_exception(e)
            return
        for (_, future), result in zip(call, results, strict=True):
            future.set_result(result)
