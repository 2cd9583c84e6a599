"""How far a long listing has come: a log line every few seconds, and a hook for a bar.

The source draws nothing on a terminal. A `Progress` logs one line at most every `EVERY_S`
seconds on the `armature_source.progress` logger (so a log shows a 20-minute backfill moving,
not only its start and end), and tells every watcher registered with `watching` of each step,
so a command on a terminal can draw bars:

    with watching(lambda step: print(step.resource, step.counter, step.done, step.total)):
        pipeline.run(source)

Time-based rather than every N pages: at 150 ms a request, 10 pages of runs with their
children take about a minute; at 5 ms, a second. The clock is checked at every answer of the
host (`Progress.watch` wraps the job's client), so the line comes on time even while one page's
children are still being fetched.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from armature_source.http.client import Params
from armature_source.load.job import JobClient

log = logging.getLogger("armature_source.load.progress")

EVERY_S = 10.0
TOTAL_KEYS = ("total", "total_count")


@dataclass(frozen=True)
class Step:
    """One counter of one resource after an update; `total` is None when nobody said it."""

    resource: str
    counter: str
    done: int
    total: int | None = None
    finished: bool = False


Watcher = Callable[[Step], None]
_watchers: list[Watcher] = []
_lock = threading.Lock()


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """Call `watcher` with every `Step` of every `Progress` while the block runs."""
    with _lock:
        _watchers.append(watcher)
    try:
        yield
    finally:
        with _lock:
            _watchers.remove(watcher)


class Progress:
    """A resource's counters, e.g. `runs listed` of a total and `runs loaded with children`.

    Logs `runs: 1200 of 3001 runs listed, 1100 finished runs loaded with children (20 s)` at
    most every `every_s` seconds, checked at each update.
    """

    def __init__(self, resource: str, every_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.resource = resource
        self.every_s = EVERY_S if every_s is None else every_s
        self._clock = clock
        self._started = self._logged = clock()
        self.counters: dict[str, tuple[int, int | None]] = {}
        self.requests = 0
        # answers are counted on the client's loop thread, the rest on the resource's thread
        self._guard = threading.Lock()
        # one line at a time, each read when written: lines never go back in their counts
        self._line = threading.Lock()

    def add(self, counter: str, n: int = 1, *, total: int | None = None) -> None:
        """Count `n` more of `counter`; `total`, when given, replaces what was known."""
        with self._guard:
            done, known = self.counters.get(counter, (0, None))
            self.counters[counter] = now = (done + n, known if total is None else total)
        self._tell(Step(self.resource, counter, *now))
        self._maybe_log()

    def answered(self, n: int = 1) -> None:
        """Count `n` more requests answered."""
        with self._guard:
            self.requests += n
        self._maybe_log()

    def watch(self, client: JobClient) -> "Watched":
        """`client`, telling this progress of every answer (see `Watched`)."""
        return Watched(client, self)

    def close(self) -> None:
        """Tell the watchers that every counter is finished."""
        for counter, (done, total) in self._counted().items():
            self._tell(Step(self.resource, counter, done, total, finished=True))

    def describe(self) -> str:
        parts = [f"{done} of {total} {counter}" if total is not None else f"{done} {counter}"
                 for counter, (done, total) in self._counted().items()]
        if self.requests:
            parts.append(f"{self.requests} requests answered")
        return ", ".join(parts)

    def _maybe_log(self) -> None:
        with self._line:
            now = self._clock()
            if now - self._logged < self.every_s:
                return
            self._logged = now
            self._log(round(now - self._started, 1))

    def _log(self, seconds: float) -> None:
        log.info("%s: %s (%.0f s so far)", self.resource, self.describe(), seconds,
                 extra={"resource": self.resource, "seconds": seconds, "requests": self.requests,
                        "progress": {c: {"done": d, "total": t} for c, (d, t) in self._counted().items()}})

    def _counted(self) -> dict[str, tuple[int, int | None]]:
        """The counters at one moment (another thread may be adding to them)."""
        with self._guard:
            return dict(self.counters)

    def _tell(self, step: Step) -> None:
        with _lock:
            watchers = list(_watchers)
        for watcher in watchers:
            watcher(step)


class Watched(JobClient):
    """A job's client that tells its `Progress` of every answer (so the line comes on time
    while a page's children are fetched) and notes the `total` a list body carries."""

    def __init__(self, inner: JobClient, progress: Progress) -> None:
        self._inner, self.stats, self.progress = inner, inner.stats, progress
        self.total: int | None = None

    def get(self, path: str, params: Params = None, *, missing_ok: bool = False) -> Any:
        return self._noted(self._inner.get(path, params, missing_ok=missing_ok))

    def submit(self, path: str, params: Params = None, *, missing_ok: bool = True,
               failed_ok: bool = False) -> concurrent.futures.Future[Any]:
        """The answer in a future that is done only once the answer was noted (so a page's
        `total` is known to whoever waits for the page); cancelling it cancels the request."""
        inner = self._inner.submit(path, params, missing_ok=missing_ok, failed_ok=failed_ok)
        outer: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def noted(done: concurrent.futures.Future[Any]) -> None:
            try:
                if done.cancelled():
                    outer.cancel()
                elif done.exception() is not None:
                    outer.set_exception(done.exception())
                else:
                    outer.set_result(self._noted(done.result()))
            except concurrent.futures.InvalidStateError:
                pass  # the caller cancelled it meanwhile

        inner.add_done_callback(noted)
        outer.add_done_callback(lambda done: done.cancelled() and inner.cancel())
        return outer

    def submit_all(self, requests: Sequence[tuple[str, Params]], *, failed_ok: bool = False,
                   on_answer: Callable[[Any], None] | None = None) -> concurrent.futures.Future[list[Any]]:
        """The answers in one future; each is noted as it arrives."""
        def noted(body: Any) -> None:
            self._noted(body)
            if on_answer is not None:
                on_answer(body)

        return self._inner.submit_all(requests, failed_ok=failed_ok, on_answer=noted)

    def get_many(self, requests: Iterable[tuple[str, Params]], *, failed_ok: bool = False) -> Iterator[Any]:
        for body in self._inner.get_many(requests, failed_ok=failed_ok):
            self.progress.answered()
            yield body

    def _noted(self, body: Any) -> Any:
        if isinstance(body, dict):
            for key in TOTAL_KEYS:
                if isinstance(body.get(key), int) and not isinstance(body.get(key), bool):
                    self.total = body[key]
                    break
        self.progress.answered()
        return body
