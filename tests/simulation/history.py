"""Playing a history and shrinking a failing one.

A history is played step by step on a fresh simulator world and a fresh folder; the first step
whose checks find violations ends it. A failing history is shrunk by delta debugging: chunks
of steps, then single steps, are left out while the shorter history still fails (any
violation counts, so a shrink may reach a simpler cause of the same kind), and what is left is
printed as the seed plus the list of steps that replays it.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from armature_sim.server import RunningSim
from tests.simulation.destinations import DuckDB, Place
from tests.simulation.harness import Harness
from tests.simulation.steps import Step, history

SHRINK_BUDGET_S = 600.0  # a shrink stops trying after this long and reports the shortest found


@dataclass
class Played:
    """How a history went: the steps played, the violations of the step that failed, the log."""

    steps: list[Step]
    problems: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0
    destination: str = DuckDB.name

    @property
    def clean(self) -> bool:
        return not self.problems


def play(steps: list[Step], ours: RunningSim, theirs: RunningSim, place: Place = DuckDB,
         root: Path | None = None) -> Played:
    """Play `steps` on a fresh world in a fresh folder and a fresh destination of `place`; stop
    at the first step that fails."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="armature-sim-history-", dir=root) as folder:
        harness = Harness(ours, theirs, Path(folder), place)
        try:
            played = len(steps)
            problems: list[str] = []
            for index, step in enumerate(steps):
                problems = harness.step(step)
                if problems:
                    played = index + 1
                    break
            return Played(steps[:played], problems, harness.log, time.monotonic() - started, harness.dest.name)
        finally:
            harness.close()


def shrink(failed: Played, ours: RunningSim, theirs: RunningSim, budget_s: float = SHRINK_BUDGET_S,
           place: Place = DuckDB) -> Played:
    """The shortest sub-history found (within `budget_s`) that still violates an invariant."""
    return shortest(failed, lambda steps: play(steps, ours, theirs, place), budget_s)


def shortest(failed: Played, replay: Callable[[list[Step]], Played], budget_s: float) -> Played:
    """Delta debugging: leave out halves, then quarters, ... then single steps, keeping each
    shorter history that `replay` still finds failing; stops when no step can go, or at `budget_s`."""
    best = failed
    deadline = time.monotonic() + budget_s
    chunk = max(len(best.steps) // 2, 1)
    while chunk >= 1 and time.monotonic() < deadline:
        shrunk, start = False, 0
        while start < len(best.steps) and time.monotonic() < deadline:
            candidate = best.steps[:start] + best.steps[start + chunk:]
            tried = replay(candidate) if candidate else None
            if tried is not None and not tried.clean:
                best, shrunk = tried, True
                continue
            start += chunk
        if not shrunk:
            chunk //= 2
    return best


def report(seed: int, original: Played, shrunk: Played) -> str:
    """What a failing history prints: its seed, the short list of steps, the violations."""
    lines = [f"history of seed {seed} failed after {len(original.steps)} steps; shrunk to {len(shrunk.steps)}:"]
    lines += [f"  {i + 1}. {step}" for i, step in enumerate(shrunk.steps)]
    lines += ["violations:"] + [f"  - {p}" for p in shrunk.problems]
    lines += ["what ran:"] + [f"  {entry}" for entry in shrunk.log]
    lines += [f"replay: python -m tests.simulation --destination {shrunk.destination} --histories 1 --seed {seed}"]
    return "\n".join(lines)


def check_seed(seed: int, ours: RunningSim, theirs: RunningSim, shrink_budget_s: float = SHRINK_BUDGET_S,
               place: Place = DuckDB) -> tuple[Played, str | None]:
    """Play the history of `seed` on a destination of `place`; when it fails, shrink it and say so."""
    played = play(history(seed), ours, theirs, place)
    if played.clean:
        return played, None
    return played, report(seed, played, shrink(played, ours, theirs, shrink_budget_s, place))
