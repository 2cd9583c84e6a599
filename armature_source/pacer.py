"""Pacing request starts to just under the rate a host allows, learned from its 429s.

A host that rate-limits (a token bucket, say) lets through, once its burst is spent, about
its allowed rate and answers the rest 429. So when 429s start, the rate of good answers just
before is the allowed rate, or close above it. From the first 429 on, requests start evenly
spaced at 90 % of that rate. Then the pace probes upward as a cubic curve of the time spent
pacing: flat near the learned rate (slowly: a few percent in the first seconds), steeper
beyond it, so a limit that was raised, or a rate learned from a quiet moment, is found again
in seconds rather than minutes. The next 429 learns the rate again. A `Retry-After` below a
second, as an honest token bucket gives it (the wait for its next token), bounds the rate
from above: at most one request per Retry-After. Whole seconds say nothing of the rate; either
way a 429 delays only its own request by its Retry-After (exchange.py).

Only a 429 to a request sent after the last lesson counts: those sent before were already
in flight at the old pace. Time counts toward probing only while requests keep up with the
pace, so a quiet spell between two bursts does not unlearn the limit.

Everything here runs on the client's event loop thread; nothing is locked.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

WINDOW_S = 1.0  # good answers counted over this long before a 429
BACKOFF = 0.9  # pace right after a lesson, as a share of the learned rate
CUBIC = 0.01  # steepness of the probe: rate = learned * (1 + CUBIC * (t - K)^3)
UNPACED_BEYOND = 8.0  # once the probe passes this many times the learned rate, stop pacing
LESSONS_KEPT = 1_000
_K = ((1 - BACKOFF) / CUBIC) ** (1 / 3)  # seconds of pacing until the learned rate again


class Pacer:
    """Spaces request starts once a host has rate-limited; a no-op until then."""

    def __init__(self) -> None:
        self.learned: float | None = None  # requests/s the host allowed at the last 429
        self.lessons: list[tuple[float, float]] = []  # (seconds since start, learned rate)
        self._cut_seq = 0
        self._paced_s = 0.0  # time spent pacing since the last lesson
        self._last_start = 0.0
        self._next = 0.0
        self._ok: deque[float] = deque()
        self._t0 = time.monotonic()
        self._first: float | None = None

    def rate(self) -> float | None:
        """Requests/s to pace at now, or None when not pacing."""
        if self.learned is None:
            return None
        return self.learned * (1 + CUBIC * (self._paced_s - _K) ** 3)

    async def wait(self) -> None:
        """Wait until the next request may start."""
        now = time.monotonic()
        if self._first is None:
            self._first = now
        rate = self.rate()
        if rate is None:
            return
        if rate > self.learned * UNPACED_BEYOND:  # type: ignore[operator]
            self.learned = None
            return
        if now - self._last_start <= 2.0 / rate:  # demand keeps up with the pace
            self._paced_s += now - self._last_start
        self._last_start = now
        start = max(now, self._next)
        self._next = start + 1.0 / rate
        if start > now:
            await asyncio.sleep(start - now)

    def answered(self) -> None:
        """A good answer came back."""
        now = time.monotonic()
        self._ok.append(now)
        while self._ok and self._ok[0] < now - WINDOW_S:
            self._ok.popleft()

    def limited(self, sent_seq: int, sent_now: int, retry_after_s: float | None) -> float | None:
        """A 429 came back to the request sent `sent_seq`-th; returns the rate learned, if any.

        Args:
            sent_now: how many requests have been sent so far (the next lesson's threshold).
        """
        if sent_seq < self._cut_seq:
            return None
        now = time.monotonic()
        span = min(WINDOW_S, now - (self._first or now))
        while self._ok and self._ok[0] < now - WINDOW_S:
            self._ok.popleft()
        allowed = len(self._ok) / span if span > 0 and self._ok else 0.0
        pace = self.rate()
        if pace is not None:
            allowed = min(allowed, pace) if allowed > 0 else pace * BACKOFF
        if retry_after_s and retry_after_s < 1.0:
            # an honest bucket's wait for its next token is at most 1/rate: an upper bound
            allowed = min(allowed, 1.0 / retry_after_s) if allowed > 0 else 1.0 / retry_after_s
        if allowed <= 0:
            return None  # nothing to learn from (no good answer yet, no fine Retry-After)
        self.learned = allowed
        self._cut_seq = sent_now
        self._paced_s = 0.0
        self._last_start = now
        if len(self.lessons) < LESSONS_KEPT:
            self.lessons.append((round(now - self._t0, 3), round(allowed, 2)))
        return allowed
