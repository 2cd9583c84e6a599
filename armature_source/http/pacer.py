"""Pacing request starts to just under the rate a host allows, learned from its 429s.

A host that rate-limits (a token bucket, say) lets through, once its burst is spent, its
allowed rate and answers the rest 429. The rate is learned in *episodes* of 429s (each
lesson within `EPISODE_GAP_S` of the last):

- A storm (429s are a quarter or more of the last answers) starts one with a guess: the
  rate of good answers over the second before. A saved-up burst spent in that second makes
  it too high, so it is checked at once. A lone 429 among good answers starts an episode
  without a guess: it may not be about the pace at all.
- Within an episode, once enough answers came back at the pace set, and `TOO_FAST_SHARE` of
  them or more were 429s (the pace is too fast): the good answers per second since then. The bucket
  was empty when that pace was set and the pace outruns its refill, so every token since went
  to some request: this is the allowed rate itself, burst-free, a *measured* rate.
- If a slower pace brings as large a share of 429s as the faster one did, they do not follow
  the pace (a flaky host, a proxy): pacing stops instead of slowing down further.

Requests then start evenly spaced at `BACKOFF` of the rate learned, and the pace probes
upward as a cubic curve of the time spent pacing: flat near the learned rate, steeper beyond
it, so a raised limit is found again in seconds. Near a measured rate it probes slowly; from
a guess, ten times faster. A `Retry-After` below a second, as an honest token bucket gives it
(the wait for its next token), bounds the rate from above: one request per Retry-After; whole
seconds say nothing of the rate. Either way a 429 delays only its own request (exchange.py).

Only answers to requests sent after the last lesson count toward the next: the ones sent
before were in flight at the old pace. Time counts toward probing only while requests keep
up with the pace, so a quiet spell between two bursts does not unlearn the limit.

Everything here runs on the client's event loop thread; nothing is locked.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Awaitable, Callable

WINDOW_S = 1.0  # good answers counted over this long for the guess when 429s start
EPISODE_GAP_S = 2.0  # a lesson this soon after the last continues its episode
EPOCH_MIN_ANSWERS = 8  # answers at one pace before they tell anything
# a pace this share 429s or more is too fast; at a tenth, burst-inflated rates stayed (bench/NOTES.md)
TOO_FAST_SHARE = 0.04
RECENT_ANSWERS = 16  # the last answers looked at when a 429 comes alone ...
STORM_SHARE = 0.25  # ... and the share of 429s among them that makes it a storm
BACKOFF = 0.9  # pace right after a lesson, as a share of the learned rate
CUBIC = 0.01  # steepness of the probe near a measured rate: learned * (1 + CUBIC * (t - K)^3)
CUBIC_FAST = 0.1  # ... and near a guessed one
UNPACED_BEYOND = 8.0  # once the probe passes this many times the learned rate, stop pacing
LESSONS_KEPT = 1_000


class Pacer:
    """Spaces request starts once a host has rate-limited; a no-op until then.

    `clock` (seconds, monotonic) and `sleep` are the pacer's only sense of time, so a test
    can drive it with a fake clock whose sleep just moves the clock on.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.learned: float | None = None  # requests/s the host allows, as last learned
        self.measured = False  # whether `learned` was measured (else guessed)
        self.lessons: list[tuple[float, float]] = []  # (seconds since start, learned rate)
        self._clock = clock
        self._sleep = sleep
        self._t0 = clock()
        self._first: float | None = None
        self._ok: deque[float] = deque()
        self._cut_seq = 0
        self._cut_at = 0.0
        self._lesson_at = float("-inf")
        self._epoch_ok = 0
        self._epoch_limited = 0
        self._paced_s = 0.0  # time spent pacing since the last lesson
        self._last_start = 0.0
        self._next = 0.0
        self._turn = asyncio.Lock()
        self._ok_since_cut = 0
        self._recent: deque[bool] = deque(maxlen=RECENT_ANSWERS)  # True: answered 429
        self._lesson_share: float | None = None
        self._lesson_pace: float | None = None

    def rate(self) -> float | None:
        """Requests/s to pace at now, or None when not pacing."""
        if self.learned is None:
            return None
        cubic = CUBIC if self.measured else CUBIC_FAST
        back_at: float = ((1 - BACKOFF) / cubic) ** (1 / 3)  # seconds until the learned rate again
        return self.learned * (1 + cubic * (self._paced_s - back_at) ** 3)

    async def wait(self) -> None:
        """Wait until the next request may start."""
        if self._first is None:
            self._first = self._clock()
        if self.learned is None:
            return
        async with self._turn:  # one at a time, so each start is spaced at the pace of now
            now = self._clock()
            if self._next > now:
                await self._sleep(self._next - now)
                now = self._clock()
            rate = self.rate()
            if rate is None or self.learned is None:
                return
            if rate > self.learned * UNPACED_BEYOND:
                self.learned = None
                return
            if now - self._last_start <= 2.0 / rate:  # demand keeps up with the pace
                self._paced_s += now - self._last_start
            self._last_start = now
            self._next = now + 1.0 / rate

    def answered(self, sent_seq: int) -> None:
        """The host let the request sent `sent_seq`-th through."""
        now = self._clock()
        self._ok.append(now)
        while self._ok and self._ok[0] < now - WINDOW_S:
            self._ok.popleft()
        self._recent.append(False)
        self._ok_since_cut += 1
        if sent_seq >= self._cut_seq:
            self._epoch_ok += 1

    def limited(self, sent_seq: int, sent_now: int, retry_after_s: float | None) -> float | None:
        """A 429 came back to the request sent `sent_seq`-th; returns the rate learned, if any.

        Args:
            sent_now: how many requests have been sent so far.
        """
        self._recent.append(True)
        if sent_seq < self._cut_seq:
            return None
        self._epoch_limited += 1
        now = self._clock()
        if now - self._lesson_at > EPISODE_GAP_S:
            if sum(self._recent) < STORM_SHARE * len(self._recent):
                # one 429 among good answers: an episode begins, the pace holds until its
                # answers tell whether the pace is the cause
                self._open(now, sent_now)
                return None
            allowed = self._guess(now)
            # a guess that repeats the last rate says the limit has not moved
            measured = self.learned is not None and abs(allowed - self.learned) <= 0.2 * self.learned
        else:
            answers = self._epoch_ok + self._epoch_limited
            if answers < EPOCH_MIN_ANSWERS or now <= self._cut_at:
                return None  # too few answers at this pace yet
            share = self._epoch_limited / answers
            if share < TOO_FAST_SHARE:
                self.measured = True  # a few 429s at this pace: it is about right
                return None
            if self._share_holds(share):
                # slower and still as many 429s: they are not about the pace
                self.learned, self._lesson_at = None, float("-inf")
                return None
            allowed, measured = self._measure(now), True
        if retry_after_s and retry_after_s < 1.0:
            # an honest bucket's wait for its next token is at most 1/rate: an upper bound
            allowed = min(allowed, 1.0 / retry_after_s) if allowed > 0 else 1.0 / retry_after_s
        if allowed <= 0:
            return None  # nothing to learn from (no good answer yet, no fine Retry-After)
        self._lesson_share = self._epoch_limited / max(1, self._epoch_ok + self._epoch_limited)
        self._lesson_pace = self.rate()
        self.learned, self.measured = allowed, measured
        self._open(now, sent_now)
        if len(self.lessons) < LESSONS_KEPT:
            self.lessons.append((round(now - self._t0, 3), round(allowed, 2)))
        return allowed

    def _open(self, now: float, sent_now: int) -> None:
        """Start counting answers to requests sent from now on."""
        self._cut_seq, self._cut_at, self._lesson_at = sent_now, now, now
        self._epoch_ok = self._epoch_limited = self._ok_since_cut = 0
        self._paced_s = 0.0
        self._last_start = now

    def _share_holds(self, share: float) -> bool:
        """Whether the 429s stayed as frequent although the pace was cut since the last lesson."""
        pace, before = self.rate(), self._lesson_pace
        if self._lesson_share is None or pace is None or before is None:
            return False
        return share >= 0.7 * self._lesson_share and pace <= 0.92 * before

    def _guess(self, now: float) -> float:
        """Good answers per second over the last window, at most the current pace."""
        span = min(WINDOW_S, now - (now if self._first is None else self._first))
        while self._ok and self._ok[0] < now - WINDOW_S:
            self._ok.popleft()
        guess = len(self._ok) / span if span > 0 and self._ok else 0.0
        pace = self.rate()
        if pace is not None:
            guess = min(guess, pace) if guess > 0 else pace * BACKOFF
        return guess

    def _measure(self, now: float) -> float:
        """Good answers per second since the pace was set (which was clearly too fast).

        The bucket was empty when the pace was set (a 429 said so), and the pace is above
        what it refills, so every token since went to some request: the good answers since
        then, whichever pace they were sent at, come at the allowed rate.
        """
        return self._ok_since_cut / (now - self._cut_at)
