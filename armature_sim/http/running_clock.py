"""`--clock-speed`: the simulated clock running on its own, X simulated seconds per real second.

Nothing ticks in the background. Before each request the world is caught up to where the
clock has run since it was last set (`World.run_to`), so a request sees the world at one
instant, the same world the clock would show at that time however it got there. Speed 0 is a
frozen clock; `advance` and a change of speed set the clock from where it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from armature_sim.vocabulary import SECOND
from armature_sim.world import World


class RunningClock:
    """Where the simulated clock was set, when (on the real clock), and how fast it runs."""

    def __init__(self, world: World, speed: float, now: Callable[[], float] = time.monotonic) -> None:
        self.world = world
        self.speed = speed
        self._now = now
        self._set_ms = world.clock.now_ms
        self._set_at = now()

    def tick(self) -> None:
        """Catch the world up to the running clock (nothing when frozen)."""
        if self.speed:
            due = self._set_ms + int((self._now() - self._set_at) * self.speed * SECOND)
            if due > self.world.clock.now_ms:
                self.world.run_to(due)

    def rebase(self, speed: float | None = None) -> None:
        """Run on from the world's now (after `advance`), at a new speed if given."""
        self.tick()
        if speed is not None:
            self.speed = speed
        self._set_ms = self.world.clock.now_ms
        self._set_at = self._now()
