"""The pacer's rules, one case each: a fake clock whose sleep moves it on, no HTTP.

A case is a script of what the host answered and when. The first request starts at 0 s;
every answer goes to a request sent after the last lesson unless it is `stale`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Coroutine

import pytest

from armature_source.http.pacer import BACKOFF, CUBIC, CUBIC_FAST, UNPACED_BEYOND, Pacer


class Clock:
    """A monotonic clock that moves only when a test moves it, or when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def at_once(step: Coroutine[object, None, None]) -> None:
    """Run a coroutine that never has to wait (the fake sleep returns at once), without a loop."""
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise AssertionError("the pacer waited on something other than its clock")


class Host:
    """Plays a script of answers to one pacer, numbering requests as they are sent."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.pacer = Pacer(clock=self.clock, sleep=self.clock.sleep)
        self.sent = 0
        self.start()

    def start(self) -> None:
        at_once(self.pacer.wait())

    def send(self, stale: bool) -> int:
        if stale:
            return 0  # sent before any lesson
        self.sent += 1
        return self.sent - 1


@dataclass(frozen=True)
class Ok:
    """`n` good answers, evenly spread over the next `over` seconds."""

    n: int
    over: float
    stale: bool = False

    def play(self, host: Host) -> None:
        for _ in range(self.n):
            host.clock.now += self.over / self.n
            host.pacer.answered(host.send(self.stale))


@dataclass(frozen=True)
class Limited:
    """`n` 429s, now."""

    retry_after_s: float | None = None
    n: int = 1
    stale: bool = False

    def play(self, host: Host) -> None:
        for _ in range(self.n):
            host.pacer.limited(host.send(self.stale), host.sent, self.retry_after_s)


@dataclass(frozen=True)
class Quiet:
    """Nothing is sent for `seconds`."""

    seconds: float

    def play(self, host: Host) -> None:
        host.clock.now += self.seconds


@dataclass(frozen=True)
class Paced:
    """Requests start back to back, each as soon as the pace lets it, for `seconds`."""

    seconds: float

    def play(self, host: Host) -> None:
        end = host.clock.now + self.seconds
        while host.clock.now < end and host.pacer.learned is not None:
            host.start()


Step = Ok | Limited | Quiet | Paced


def play(*steps: Step) -> Pacer:
    host = Host()
    for step in steps:
        step.play(host)
    return host.pacer


STORM: list[Step] = [Ok(3, 0.3), Limited()]  # 3 good answers in 0.3 s, then 429s: a guess of 10/s
LONE: list[Step] = [Ok(15, 1.0), Limited()]  # one 429 among 15 good answers
# after the storm's guess (paced at 9/s), 8 answers at a pace a quarter 429s: measured 6/s
SLOWER: list[Step] = [Ok(6, 1.0), Limited(n=2)]

LESSONS = [
    pytest.param([Ok(100, 1.0)], None, None, id="no pacing before any 429"),
    pytest.param(STORM, 10.0, False, id="a storm of 429s starts pacing at the guessed rate"),
    pytest.param([*STORM, Ok(20, 1.0), Limited()], 20.0, True,
                 id="a storm's guess is checked at once by the answers that come back at its pace"),
    pytest.param(LONE, None, None, id="a lone 429 among good answers starts an episode without a guess"),
    pytest.param([*LONE, Ok(5, 0.5), Limited()], None, None,
                 id="fewer than eight answers at a pace tell nothing"),
    pytest.param([*LONE, Ok(20, 1.0), Limited()], 20.0, True,
                 id="enough answers at a too fast pace give a measured rate: good answers per second"),
    pytest.param([*LONE, Ok(20, 1.0, stale=True), Limited()], None, None,
                 id="good answers to requests sent before the last lesson do not count toward the next"),
    pytest.param([*LONE, Ok(20, 1.0), Limited(n=10, stale=True)], None, None,
                 id="429s to requests sent before the last lesson teach nothing"),
    pytest.param([*STORM, Ok(30, 1.0), Limited()], 10.0, True,
                 id="a 429 rarer than the too fast share confirms the pace as measured"),
    pytest.param([*STORM, *SLOWER, *SLOWER], None, None,
                 id="pacing stops when a slower pace brings as large a share of 429s"),
    pytest.param([*STORM, *SLOWER, Ok(14, 1.0), Limited()], 14.0, True,
                 id="a slower pace with fewer 429s goes on learning"),
    pytest.param([*STORM, Quiet(5.0), Ok(12, 1.0), Limited(n=3, stale=True), Limited()], 9.0, True,
                 id="a new storm's guess within a fifth of the learned rate counts as measured"),
    pytest.param([*STORM, Quiet(5.0), Ok(4, 1.0), Limited(n=3, stale=True), Limited()], 4.0, False,
                 id="a new storm's guess far from the learned rate stays a guess"),
    pytest.param([Ok(3, 0.3), Limited(retry_after_s=0.5)], 2.0, False,
                 id="a retry after below a second bounds the rate at one request per retry after"),
    pytest.param([Ok(3, 0.3), Limited(retry_after_s=1.0)], 10.0, False,
                 id="a retry after of whole seconds says nothing of the rate"),
    pytest.param([Limited()], None, None,
                 id="a storm before any good answer and without a fine retry after learns nothing"),
    pytest.param([Limited(retry_after_s=0.25)], 4.0, False,
                 id="a storm before any good answer learns from a fine retry after alone"),
]


@pytest.mark.parametrize(("steps", "learned", "measured"), LESSONS)
def test_the_pacer_learns_by_its_rule(steps: list[Step], learned: float | None, measured: bool | None) -> None:
    pacer = play(*steps)
    assert pacer.learned == (None if learned is None else pytest.approx(learned))
    assert (None if pacer.learned is None else pacer.measured) is measured


def test_each_lesson_is_recorded_with_the_clock_s_time() -> None:
    assert play(*STORM).lessons == [(0.3, 10.0)]


GUESSED_1000: list[Step] = [Ok(3, 0.003), Limited()]  # 1000/s, so that the pace steps in milliseconds
MEASURED_1000: list[Step] = [*LONE, Ok(20, 0.02), Limited()]
AGAIN_AT_MEASURED = ((1 - BACKOFF) / CUBIC) ** (1 / 3)  # the probe's plateau, seconds in
AGAIN_AT_GUESSED = ((1 - BACKOFF) / CUBIC_FAST) ** (1 / 3)

PROBE = [
    pytest.param(GUESSED_1000, 0.0, BACKOFF, id="right after a lesson the pace is 90 percent of the rate"),
    pytest.param(MEASURED_1000, AGAIN_AT_MEASURED, 1.0,
                 id="near a measured rate the probe is back at it after about two seconds"),
    pytest.param(MEASURED_1000, 2 * AGAIN_AT_MEASURED, 1.1,
                 id="beyond a measured rate the probe climbs steeper"),
    pytest.param(GUESSED_1000, AGAIN_AT_GUESSED, 1.0,
                 id="near a guessed rate the probe is back at it after one second"),
    pytest.param(GUESSED_1000, 3.0, 1.8, id="beyond a guessed rate the probe climbs ten times faster"),
]


@pytest.mark.parametrize(("lesson", "paced_s", "share"), PROBE)
def test_the_pace_probes_upward_as_a_cubic_of_the_time_spent_pacing(
    lesson: list[Step], paced_s: float, share: float,
) -> None:
    pacer = play(*lesson, Paced(paced_s))
    assert pacer.learned == pytest.approx(1000.0)
    assert pacer.rate() == pytest.approx(share * 1000.0, rel=0.01)


def test_pacing_stops_once_the_probe_passes_eight_times_the_learned_rate() -> None:
    pacer = play(*GUESSED_1000, Paced(10.0))
    assert pacer.learned is None
    assert pacer.rate() is None
    assert UNPACED_BEYOND == 8


def test_a_quiet_spell_does_not_count_toward_probing() -> None:
    before = play(*GUESSED_1000, Paced(AGAIN_AT_GUESSED)).rate()
    after = play(*GUESSED_1000, Paced(AGAIN_AT_GUESSED), Quiet(60.0), Paced(0.0)).rate()
    assert before == pytest.approx(1000.0, rel=0.01)
    assert after == pytest.approx(before, rel=0.01)
    assert play(*GUESSED_1000, Paced(AGAIN_AT_GUESSED + 60.0)).learned is None, \
        "a minute more of pacing would have probed past eight times the rate"



def test_before_any_429_requests_start_without_waiting() -> None:
    host = Host()
    Ok(100, 1.0).play(host)
    for _ in range(10):
        host.start()
    assert host.clock.slept == []


def test_once_pacing_requests_start_evenly_spaced_at_the_pace() -> None:
    host = Host()
    for step in STORM:
        step.play(host)
    for _ in range(4):
        host.start()
    pace = BACKOFF * 10.0  # a lesson's pace; the probe moves it a little in a third of a second
    assert host.clock.slept == pytest.approx([1 / pace] * 3, rel=0.05)
