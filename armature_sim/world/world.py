"""The seeded world and its clock: the app reads it, `/_sim` moves it.

A world is its parts, one module each: the catalog, the runs, the sessions, the insights
over them and the edits that writes make, all sharing one clock. Moving the clock lets the
arrivals due by then happen: runs arrive and end, sessions arrive and grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from armature_sim.vocabulary import DAY, MINUTE, SESSION_HISTORY, WorldOptions
from armature_sim.world.arrivals import Arrivals
from armature_sim.world.catalog import Catalog
from armature_sim.world.clock import Clock, instant, millis
from armature_sim.world.corpus import text_block
from armature_sim.world.edits import Edits
from armature_sim.world.insights import Insights
from armature_sim.world.late_children import LateChildren
from armature_sim.world.runs import Runs
from armature_sim.world.seeding import seeded
from armature_sim.world.sessions import Sessions


@dataclass
class AdvanceReport:
    """What moving the clock did."""

    now: datetime
    new_runs: int
    ended_runs: int
    new_sessions: int
    grown_sessions: int


class World:
    """The seeded world: its parts, the clock they share, and the arrival streams."""

    def __init__(self, options: WorldOptions) -> None:
        seed = options.seed
        self.clock = Clock(millis(options.now))
        now = self.clock.now_ms
        text = text_block(seeded(seed, "text"))
        self.catalog = Catalog(seeded(seed, "catalog"), now)
        self.runs = Runs(seed, self.clock, self.catalog, text)
        self.sessions = Sessions(seed, self.clock, self.catalog, text, options.sessions)
        self.insights = Insights(self.clock, self.catalog, self.sessions)
        self.edits = Edits(seed, self.clock, self.catalog, self.runs)
        self.late_children = LateChildren()  # how the host serves children; set by the server
        self._run_arrivals = Arrivals(
            seed, "runs", options.runs, options.days * DAY,
            min(options.runs, max(4, options.runs // 250)), 15 * MINUTE, now,
        )
        self._session_arrivals = Arrivals(
            seed, "sessions", options.sessions, SESSION_HISTORY,
            min(options.sessions, max(3, options.sessions // 100)), 45 * MINUTE, now,
        )
        for arrival, at in self._run_arrivals.backlog():
            self.runs.arrive(arrival, at)
        for arrival, at in self._session_arrivals.backlog():
            self.sessions.arrive(arrival, at)

    def advance(self, ms: int) -> AdvanceReport:
        """Move the clock `ms` forward: runs arrive and end, sessions arrive and grow."""
        before, after = self.clock.now_ms, self.clock.now_ms + ms
        open_runs = self.runs.open()
        growing = [(s, s.visible(before)) for s in self.sessions.plans if s.event_ms[-1] > before]
        new_runs, new_sessions = self.run_to(after)
        return AdvanceReport(
            now=instant(after),
            new_runs=new_runs,
            ended_runs=sum(1 for plan in open_runs if not plan.is_open(after)),
            new_sessions=new_sessions,
            grown_sessions=sum(1 for s, seen in growing if s.visible(after) > seen),
        )

    def run_to(self, after: int) -> tuple[int, int]:
        """Set the clock to `after` (not before now) and let the arrivals due by then happen.

        The cheap half of `advance`, which a running clock calls before every request; it
        returns how many runs and sessions arrived.
        """
        before = self.clock.now_ms
        self.clock.move_to(max(before, after))
        runs = sum(1 for j, at in self._run_arrivals.between(before, after) if self.runs.arrive(j, at))
        sessions = [self.sessions.arrive(j, at) for j, at in self._session_arrivals.between(before, after)]
        return runs, len(sessions)
