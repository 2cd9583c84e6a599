"""The baseline for bench_client.py: the source's HTTP layer as it was before the adaptive
client, kept whole so the benchmark compares against the real thing.

A pooled `httpx.Client`, a thread pool, and a fixed bound of 8 requests in flight; a 429
halves the bound and pauses every request until its Retry-After, then the bound creeps back
by one after 4 x bound good answers. Bodies are parsed with the standard library's `json`
and snake_cased, as the old client did.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator

import httpx

from armature_source.http.casing import snake_keys


class Throttle:
    """The old throttle, verbatim in behaviour."""

    def __init__(self, limit: int) -> None:
        self.max_limit = max(1, limit)
        self.limit = self.max_limit
        self._active = 0
        self._good = 0
        self._paused_until = 0.0
        self._cv = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cv:
            while self._active >= self.limit:
                self._cv.wait()
            self._active += 1
        try:
            wait = self._paused_until - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            yield
        finally:
            with self._cv:
                self._active -= 1
                self._cv.notify()

    def rate_limited(self, retry_after_s: float) -> None:
        with self._cv:
            self.limit = max(1, self.limit // 2)
            self._good = 0
            self._paused_until = max(self._paused_until, time.monotonic() + retry_after_s)

    def succeeded(self) -> None:
        with self._cv:
            self._good += 1
            if self.limit < self.max_limit and self._good >= 4 * self.limit:
                self.limit += 1
                self._good = 0
                self._cv.notify_all()


class FixedClient:
    """get_many as the old client did it; counts requests and 429s."""

    def __init__(self, api_url: str, api_key: str, max_in_flight: int = 8) -> None:
        self.http = httpx.Client(
            base_url=api_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60.0,
            limits=httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight),
        )
        self.throttle = Throttle(max_in_flight)
        self.pool = ThreadPoolExecutor(max_in_flight)
        self.requests = 0
        self.rate_limited = 0
        self._lock = threading.Lock()

    def get(self, path: str) -> Any:
        for _attempt in range(1, 20):
            with self.throttle.slot():
                response = self.http.get(path)
            with self._lock:
                self.requests += 1
                self.rate_limited += response.status_code == 429
            if response.status_code == 429:
                wait = float(response.headers.get("retry-after") or 1)
                self.throttle.rate_limited(wait)
                time.sleep(wait + random.uniform(0, 0.25))
                continue
            if response.status_code == 404:
                return None
            response.raise_for_status()
            self.throttle.succeeded()
            return snake_keys(json.loads(response.content))
        raise RuntimeError(f"GET {path} kept failing")

    def get_many(self, paths: list[str]) -> list[Any]:
        return [f.result() for f in [self.pool.submit(self.get, p) for p in paths]]

    def close(self) -> None:
        self.pool.shutdown()
        self.http.close()
