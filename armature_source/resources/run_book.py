"""The runs cursor, kept in dlt's resource state, and changed only by what was delivered.

    mark      the newest plausible `started_at` listed; the next load reads back to
              `mark - lookback`. A run stamped beyond the host's now plus one hour still
              loads, but never moves the mark (a wrong clock must not hide later runs).
    open      runs seen pending/running, `{id: {started_at, status}}`, re-read until they
              end, even after they leave the window (versions before 0.2 kept
              `[started_at, status]` lists: read as such and rewritten)
    done      terminal runs loaded with all their children, `{id: started_at}`, kept while
              the next load may list them again, so children are never fetched twice
    awaiting  terminal runs loaded as listed whose children the host did not serve yet,
              `{id: {"started_at", "status", "since", "missing": [...]}}`, asked again on
              later loads until found or `children_retry_hours` have passed

The resource stages each batch's changes in a `Batch` and commits it only after the batch's
rows were yielded: a generator closed early (by `add_limit`, an error downstream, a kill)
leaves the state as the last delivered batch left it, and the next load does the rest again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from armature_source.load.state import AwaitingRun, OpenRun, RunsState
from armature_source.load.windows import EDGE_MARGIN, FUTURE_TOLERANCE, believed
from armature_source.timestamps import at_or_after, iso, may_be_in_span, try_ts

log = logging.getLogger("armature_source")


@dataclass
class Batch:
    """The cursor changes of one batch of runs, applied by `RunBook.commit`."""

    opened: dict[str, OpenRun] = field(default_factory=dict)
    finished: dict[str, str] = field(default_factory=dict)
    awaiting: dict[str, AwaitingRun] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)

    def open(self, row: dict[str, Any]) -> None:
        self.opened[row["id"]] = _open_entry(row)

    def finish(self, row: dict[str, Any], now: datetime) -> None:
        self.finished[row["id"]] = _stamp_or(row.get("started_at"), now)

    def wait_for(self, row: dict[str, Any], missing: list[str], since: str) -> None:
        self.awaiting[row["id"]] = AwaitingRun(
            started_at=row.get("started_at"), status=row.get("status"), since=since, missing=missing)

    def drop(self, run_id: str) -> None:
        """Forget a run: it vanished, or the wait for its children is over."""
        self.dropped.add(run_id)


class RunBook:
    """The runs cursor: reads the state once, writes it only through `commit` and `save`."""

    def __init__(self, state: RunsState, now: datetime, horizon: datetime | None = None) -> None:
        self.state = state
        self.now = now
        self.horizon = horizon or now + FUTURE_TOLERANCE
        self.mark = believed(state.get("mark"), self.horizon, "runs")
        self.open = state.setdefault("open", {})
        for run_id, entry in list(self.open.items()):
            if isinstance(entry, list):  # written by a version before 0.2
                self.open[run_id] = OpenRun(started_at=entry[0], status=entry[1])
        self.done = state.setdefault("done", {})
        self.awaiting = state.setdefault("awaiting", {})
        self.awaited_before = frozenset(self.awaiting)  # asked again at the end of this load
        self.finished_now = 0
        self.vanished_now = 0
        self.implausible: dict[str, Any] = {}
        self._newest = self.mark

    def wants(self, row: dict[str, Any], since: datetime | None) -> bool:
        """Whether a listed run needs handling: inside the span read, or one still open.

        Runs already done, or awaiting children (handled by their own retry), are not.
        """
        run_id = row.get("id")
        started = try_ts(row.get("started_at"))
        if run_id is None:  # no key: the resource hands it to rejected_records
            return True
        self._note_started(run_id, started, row.get("started_at"))
        if run_id in self.done or run_id in self.awaiting:
            return False
        return run_id in self.open or may_be_in_span(started, since)

    def _note_started(self, run_id: str, started: datetime | None, raw: Any) -> None:
        if started is None:
            return
        if started > self.horizon:
            self.implausible.setdefault(run_id, raw)
            return
        if self._newest is None or started > self._newest:
            self._newest = started

    def open_changed(self, row: dict[str, Any]) -> bool:
        """Whether an open run is new to the cursor or changed status since it was loaded."""
        return self.open.get(row["id"]) != _open_entry(row)

    def commit(self, batch: Batch) -> None:
        """Apply a delivered batch's changes to the state."""
        self.open.update(batch.opened)
        for run_id, started in batch.finished.items():
            self.open.pop(run_id, None)
            self.awaiting.pop(run_id, None)
            self.done[run_id] = started
        for run_id, entry in batch.awaiting.items():
            self.open.pop(run_id, None)
            self.awaiting[run_id] = entry
        for run_id in batch.dropped:
            self.open.pop(run_id, None)
            self.awaiting.pop(run_id, None)
        self.finished_now += len(batch.finished)

    def save(self, lookback: timedelta, advance: bool = True) -> None:
        """Advance the mark (when the listing was delivered whole) and prune `done`."""
        for run_id, raw in self.implausible.items():
            log.warning(
                "runs: run %s has started_at %s, more than %s beyond the host's now (%s); it "
                "is loaded, but the runs cursor does not move by it. The host's clock or data "
                "may be wrong.", run_id, raw, FUTURE_TOLERANCE, iso(self.now),
            )
        if self._newest is None or not advance:
            return
        self.state["mark"] = iso(self._newest) or ""
        horizon = self._newest - lookback - EDGE_MARGIN
        for run_id in [k for k, v in self.done.items() if not at_or_after(v, horizon)]:
            del self.done[run_id]


def _open_entry(row: dict[str, Any]) -> OpenRun:
    return OpenRun(started_at=row.get("started_at"), status=row.get("status"))


def _stamp_or(value: Any, fallback: datetime) -> str:
    """A run's `started_at` as state keeps it, or `fallback` when it does not parse."""
    return iso(try_ts(value) or fallback) or ""
