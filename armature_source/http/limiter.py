"""How many requests may be in flight to the host at once: a limit that adapts to the host.

The limit starts small and doubles every round trip while answers come back fast and clean
(slow start), then grows by one per round trip (additive increase), never beyond
`max_in_flight`. It shrinks when the host shows strain: to 70 % on a 5xx, a timeout or a
dropped connection; to 90 % when the recent latency climbs well above the best seen
(requests queueing on the host); to half on a 429 that the pacer cannot act on (no rate to
learn from yet: once it paces, 429s are the pacer's business and the limit stays). A shrink
counts once per round trip: answers to requests sent before the last shrink say nothing about
the new limit, so a burst of
failures from one window of requests cuts once, not once per failure. Latency alone never
takes the limit below `LATENCY_FLOOR`: a slow host stays usable, only errors go lower.

Everything here runs on the client's event loop thread; nothing is locked.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable

INITIAL_LIMIT = 4
LATENCY_FLOOR = 4
LATENCY_FACTOR = 2.0  # recent latency beyond this many times the best seen means queueing
LATENCY_SLACK_S = 0.050  # ... plus this much, so that a 1 ms host is not judged by its jitter
RECENT_WEIGHT = 0.1  # weight of the newest answer in the recent latency
BEST_DRIFT = 0.0005  # the best latency creeps toward slower answers, to relearn a slower host
HISTORY_CAP = 10_000


class Signal(Enum):
    """What one answer says about the host's capacity."""

    CLEAN = "clean"  # answered (any status the host chose to send), in time
    LIMITED = "limited"  # 429
    STRAINED = "strained"  # 5xx, timeout, connection error
    NEUTRAL = "neutral"  # says nothing about capacity (a bad body, a cancelled request)


@dataclass
class Slot:
    """One request's place in flight: when it was sent and whether the limit was in use."""

    sent_seq: int = -1
    sent_at: float = 0.0
    full: bool = False  # the limit was fully used when it was sent: growth is earned


class Limiter:
    """An adaptive bound on requests in flight; waiters are served lowest priority first.

    `clock` (seconds, monotonic) times the history; tests pass a fake one.
    """

    def __init__(self, max_limit: int, initial: int = INITIAL_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_limit = max(1, max_limit)
        self._limit = float(min(self.max_limit, max(1, initial)))
        self.in_flight = 0
        self.sent = 0
        self.best_latency: float | None = None
        self.recent_latency: float | None = None
        self._slow_start = True
        self._cut_seq = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._clock = clock
        self._t0 = clock()
        self.history: list[tuple[float, int]] = [(0.0, self.limit)]

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    async def acquire(self, priority: int) -> Slot:
        """Wait for room under the limit; lower `priority` values go first."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return Slot()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        self._wake()  # entries of cancelled waiters may be all that stood in the way
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a place just as cancelled
                self.in_flight -= 1
                self._wake()
            raise
        return Slot()

    def sending(self, slot: Slot) -> None:
        """Note that the slot's request leaves now."""
        slot.sent_seq = self.sent
        slot.sent_at = self._clock()
        slot.full = self.in_flight + len(self._waiters) >= self.limit
        self.sent += 1

    def release(self, slot: Slot, signal: Signal, latency_s: float | None = None) -> None:
        """Give the place back and learn from how its request went."""
        self.in_flight -= 1
        if signal is Signal.CLEAN and latency_s is not None:
            self._clean(slot, latency_s)
        elif signal is Signal.LIMITED:
            self._shrink(slot, 0.5)
        elif signal is Signal.STRAINED:
            self._shrink(slot, 0.7)
        self._wake()

    def _clean(self, slot: Slot, latency_s: float) -> None:
        best = self.best_latency
        if best is None or latency_s < best:
            best = latency_s
        else:
            best += (latency_s - best) * BEST_DRIFT
        self.best_latency = best
        recent = self.recent_latency
        self.recent_latency = latency_s if recent is None else recent + (latency_s - recent) * RECENT_WEIGHT
        if self.recent_latency > best * LATENCY_FACTOR + LATENCY_SLACK_S:
            self._shrink(slot, 0.9, floor=min(LATENCY_FLOOR, self.max_limit))
        elif slot.full and self._limit < self.max_limit:
            self._set(self._limit + (1.0 if self._slow_start else 1.0 / self._limit))

    def _shrink(self, slot: Slot, factor: float, floor: int = 1) -> None:
        if slot.sent_seq < self._cut_seq or self._limit <= floor:
            return  # sent before the last shrink: already accounted for
        self._slow_start = False
        self._cut_seq = self.sent
        self._set(max(float(floor), self._limit * factor))

    def _set(self, value: float) -> None:
        before = self.limit
        self._limit = min(float(self.max_limit), value)
        if self.limit != before and len(self.history) < HISTORY_CAP:
            self.history.append((round(self._clock() - self._t0, 3), self.limit))

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)
