"""When runs and sessions happen: numbered arrivals whose times do not depend on the clock's path.

Arrival `j` has a fixed time and a fixed plan, so the world at a given clock time does not
depend on how the clock got there (one advance of 60 minutes equals two of 30).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from armature_sim.vocabulary import MINUTE
from armature_sim.world.seeding import seeded


@dataclass(frozen=True)
class Arrivals:
    """Times of a stream's arrivals: a backlog up to the start, then a jittered grid.

    The backlog has `count` arrivals spread over `span_ms` before `start_ms`, `recent` of them
    inside the last `recent_ms` (the newest in the last minute) so that a fresh world has work
    in flight. After the start, arrival `j` (from 1) falls at `start + (j - 1 + u_j) * gap`
    with `u_j` drawn from its own seed, which makes the times independent of how the clock is
    advanced.
    """

    seed: int
    label: str
    count: int
    span_ms: int
    recent: int
    recent_ms: int
    start_ms: int
    # arrival -> time after the start, drawn once: a running clock asks about the same few often
    _times: dict[int, int] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def gap(self) -> float:
        """Average time between arrivals."""
        return self.span_ms / self.count

    def backlog(self) -> list[tuple[int, int]]:
        """(arrival, time) of the arrivals up to the start, oldest first, arrivals numbered <= 0."""
        rng = seeded(self.seed, self.label, "backlog")
        older = self.count - self.recent
        width = (self.span_ms - self.recent_ms) / max(older, 1)
        first = self.start_ms - self.span_ms
        times = [int(first + (i + rng.random()) * width) for i in range(older)]
        recent_from = self.start_ms - self.recent_ms
        recent = [int(recent_from + rng.random() * self.recent_ms) for _ in range(self.recent - 1)]
        if self.recent:
            # the newest within the last minute, so a fresh world always has work in flight
            recent.append(self.start_ms - int(rng.random() * MINUTE))
        times += sorted(recent)
        return [(i - len(times) + 1, at) for i, at in enumerate(times)]

    def between(self, after: int, until: int) -> list[tuple[int, int]]:
        """(arrival, time) of the arrivals with `after < time <= until`, in order."""
        if self.count == 0:
            return []
        first = max(1, int((after - self.start_ms) / self.gap))
        last = int((until - self.start_ms) / self.gap) + 1
        found = []
        for j in range(first, last + 1):
            at = self._times.get(j)
            if at is None:
                u = seeded(self.seed, self.label, j).random()
                at = self._times[j] = int(self.start_ms + (j - 1 + u) * self.gap)
            if after < at <= until:
                found.append((j, at))
        return found
