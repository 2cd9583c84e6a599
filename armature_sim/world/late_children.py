"""When a terminal run's children (trace, tool calls, evaluation) can be read.

A real host may publish them some minutes after the run ends, or lose them: the run is listed
and served by id all along, while `/trace`, `/tool-calls` and `/evaluation` answer `404
not_found`. An open run is not affected: it serves the part of its children begun so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from armature_sim.vocabulary import MINUTE

if TYPE_CHECKING:
    from armature_sim.world.run_plan import RunPlan


@dataclass(frozen=True)
class LateChildren:
    """How long after its end a run's children appear, and the runs whose children never do."""

    delay_ms: int = 0
    missing: frozenset[str] = frozenset()

    @classmethod
    def of(cls, delay_minutes: float, missing: tuple[str, ...] | frozenset[str]) -> LateChildren:
        """The policy for a delay in minutes and a list of run ids."""
        return cls(round(delay_minutes * MINUTE), frozenset(missing))

    def available_at(self, plan: RunPlan) -> int | None:
        """When the children of the run, once terminal, become readable; None: never."""
        return None if plan.id in self.missing else plan.ended_ms + self.delay_ms

    def ready(self, plan: RunPlan, now: int) -> bool:
        """Whether the run's children can be read at `now`."""
        if plan.is_open(now):
            return True
        at = self.available_at(plan)
        return at is not None and now >= at
