"""The in-flight limit's rules, one case each: a fake clock, no HTTP, no real waiting.

A round trip here sends as many requests as the step says (by default as many as the limit
allows, so the limit is in full use) and answers them all alike.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from armature_source.http.limiter import INITIAL_LIMIT, LATENCY_FLOOR, Limiter, Signal, Slot

FAST = 0.010  # seconds: a healthy answer
SLOW = 1.0  # seconds: far above twice the best seen plus the slack, so the host is queueing


class Clock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Trips:
    """`count` round trips whose answers all say `signal` after `latency` seconds."""

    count: int = 1
    signal: Signal = Signal.CLEAN
    latency: float = FAST
    size: int | None = None  # requests per round trip; None: as many as the limit


def take(limiter: Limiter) -> Slot:
    """A place under the limit; room is granted without waiting, so no event loop is needed."""
    step = limiter.acquire(0)
    try:
        step.send(None)
    except StopIteration as granted:
        slot: Slot = granted.value
        return slot
    step.close()
    raise AssertionError("no room under the limit")


def play(limiter: Limiter, *steps: Trips) -> int:
    for step in steps:
        for _ in range(step.count):
            slots = [take(limiter) for _ in range(step.size or limiter.limit)]
            for slot in slots:
                limiter.sending(slot)
            for slot in slots:
                limiter.release(slot, step.signal, step.latency if step.signal is Signal.CLEAN else None)
    return limiter.limit


GROWN_TO_16 = Trips(2)  # 4 -> 8 -> 16 in slow start

RULES = [
    pytest.param(32, [], INITIAL_LIMIT, id="the limit starts at 4"),
    pytest.param(2, [], 2, id="a ceiling below 4 is where the limit starts"),
    pytest.param(32, [Trips(1)], 8, id="slow start doubles the limit per clean full round trip"),
    pytest.param(32, [Trips(3)], 32, id="slow start goes on doubling up to the ceiling"),
    pytest.param(20, [Trips(6)], 20, id="the limit never grows beyond max_in_flight"),
    pytest.param(32, [Trips(1, size=2)], 4,
                 id="answers to requests sent below the limit earn no growth"),
    pytest.param(32, [GROWN_TO_16, Trips(1, Signal.STRAINED, size=1)], 11,
                 id="a 5xx, a timeout or a dropped connection cuts the limit to 70 percent"),
    pytest.param(32, [GROWN_TO_16, Trips(1, Signal.LIMITED, size=1)], 8,
                 id="a 429 the pacer cannot act on halves the limit"),
    pytest.param(32, [GROWN_TO_16, Trips(1, Signal.NEUTRAL, size=1)], 16,
                 id="an answer that says nothing of capacity leaves the limit"),
    pytest.param(32, [GROWN_TO_16, Trips(1, Signal.STRAINED)], 11,
                 id="a round trip of failures cuts once, not once per failure"),
    pytest.param(32, [GROWN_TO_16, Trips(2, Signal.STRAINED)], 7,
                 id="failures of requests sent after a cut cut again"),
    pytest.param(32, [GROWN_TO_16, Trips(1, Signal.STRAINED, size=1), Trips(4)], 11 + 4,
                 id="after a cut the limit grows by one per clean full round trip"),
    pytest.param(32, [GROWN_TO_16, Trips(1, latency=SLOW)], 14,
                 id="latency well above the best seen trims the limit to 90 percent"),
    pytest.param(32, [GROWN_TO_16, Trips(30, latency=SLOW)], LATENCY_FLOOR,
                 id="latency alone never takes the limit below the latency floor"),
    pytest.param(32, [GROWN_TO_16, Trips(30, latency=SLOW), Trips(1, Signal.STRAINED, size=1)], 2,
                 id="errors take the limit below the latency floor"),
    pytest.param(32, [Trips(2, latency=0.001), Trips(1, latency=0.040)], 32,
                 id="a 1 ms host answering in 40 ms is within the slack and keeps growing"),
]


@pytest.mark.parametrize(("max_in_flight", "steps", "limit"), RULES)
def test_the_limit_follows_its_rule(max_in_flight: int, steps: list[Trips], limit: int) -> None:
    assert play(Limiter(max_in_flight, clock=Clock()), *steps) == limit


def test_the_history_records_each_change_at_the_clock_s_time() -> None:
    clock = Clock()
    limiter = Limiter(32, clock=clock)
    clock.now = 1.5
    play(limiter, Trips(1))
    assert limiter.history == [(0.0, 4), (1.5, 5), (1.5, 6), (1.5, 7), (1.5, 8)]


def test_waiters_are_served_lowest_priority_first() -> None:
    async def scenario() -> list[int]:
        limiter = Limiter(1, clock=Clock())
        held = await limiter.acquire(0)
        served: list[int] = []

        async def wait_for_room(priority: int) -> None:
            slot = await limiter.acquire(priority)
            served.append(priority)
            limiter.release(slot, Signal.NEUTRAL)

        waiting = [asyncio.create_task(wait_for_room(p)) for p in (5, 1, 3)]
        await asyncio.sleep(0)  # every waiter queues
        limiter.release(held, Signal.NEUTRAL)
        await asyncio.gather(*waiting)
        return served

    assert asyncio.run(scenario()) == [1, 3, 5]


CANCELLED = [
    pytest.param(False, id="a waiter cancelled while it waits takes no place"),
    pytest.param(True, id="a waiter cancelled just as it was handed a place gives it back"),
]


@pytest.mark.parametrize("handed_a_place", CANCELLED)
def test_cancelled_waiters_leak_no_place(handed_a_place: bool) -> None:
    async def scenario() -> Limiter:
        limiter = Limiter(1, clock=Clock())
        held = await limiter.acquire(0)
        waiter = asyncio.create_task(limiter.acquire(1))
        await asyncio.sleep(0)  # the waiter queues
        if handed_a_place:
            limiter.release(held, Signal.NEUTRAL)  # hands the place over; the waiter has not run
            waiter.cancel()
        else:
            waiter.cancel()
            await asyncio.sleep(0)
            limiter.release(held, Signal.NEUTRAL)
        with pytest.raises(asyncio.CancelledError):
            await waiter
        after = await asyncio.wait_for(limiter.acquire(2), 1.0)  # room again at once
        limiter.release(after, Signal.NEUTRAL)
        return limiter

    limiter = asyncio.run(scenario())
    assert limiter.in_flight == 0
