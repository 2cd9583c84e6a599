"""How many requests may be in flight to the host at once."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator


class Throttle:
    """Bounds requests in flight; halves the bound on a 429 and pauses everyone until
    Retry-After, then raises the bound by one after a run of good answers."""

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
