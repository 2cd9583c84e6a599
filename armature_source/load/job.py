"""One resource's part of a load: its requests, its rows and rejects, its ledger row.

Every resource runs as a `Job`: it reads through `job.client` (which counts its requests),
writes through `job.emit` (which converts rows, quarantines what cannot be loaded as served,
counts, and holds them for dlt in few, large tables), changes its state through `job.after`
(once the rows it speaks of were yielded), notes what it listed, skipped and lost, and ends
with one `load_ledger` row.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import dlt

from armature_source import tables as t
from armature_source.http.client import ArmatureClient, Params, RequestStats
from armature_source.load.columns import routed, to_arrow
from armature_source.load.context import Load
from armature_source.load.held import Held
from armature_source.load.quarantine import Quarantine
from armature_source.load.state import resource_state
from armature_source.load.windows import Window
from armature_source.timestamps import iso

log = logging.getLogger("armature_source")


class JobClient:
    """The load's client, counting this job's requests apart."""

    def __init__(self, client: ArmatureClient, stats: RequestStats) -> None:
        self._client = client
        self.stats = stats

    def get(self, path: str, params: Params = None, *, missing_ok: bool = False) -> Any:
        return self._client.get(path, params, missing_ok=missing_ok, stats=self.stats)

    def get_many(self, requests: Iterable[tuple[str, Params]], *, failed_ok: bool = False) -> Iterator[Any]:
        return self._client.get_many(requests, failed_ok=failed_ok, stats=self.stats)

    def submit(self, path: str, params: Params = None, *, missing_ok: bool = True,
               failed_ok: bool = False) -> concurrent.futures.Future[Any]:
        return self._client.submit(path, params, missing_ok=missing_ok, failed_ok=failed_ok, stats=self.stats)

    def submit_all(self, requests: Sequence[tuple[str, Params]], *, failed_ok: bool = False,
                   on_answer: Callable[[Any], None] | None = None) -> concurrent.futures.Future[list[Any]]:
        return self._client.submit_all(requests, failed_ok=failed_ok, stats=self.stats, on_answer=on_answer)


@dataclass
class Counts:
    """What a job saw, for its ledger row."""

    pages: int = 0
    listed: int = 0
    loaded: int = 0
    skipped: int = 0
    vanished: int = 0
    rejected: int = 0


class Job:
    """A resource's part of one load."""

    def __init__(self, name: str, load: Load) -> None:
        self.name = name
        self.load = load
        self.stats = RequestStats()
        self.client = JobClient(load.client, self.stats)
        self.counts = Counts()
        self.window: Window | None = None
        self.notes: list[str] = []
        self.batch_limit = load.batch_limits.get(name)  # add_limit(n): n batches with work
        self.batches = 0
        self.limited = False
        self.undeclared: set[str] = set()  # table.field the host sent that no column declares
        self.stopped = False
        self.started = datetime.now(timezone.utc)
        self._clock = time.monotonic()
        self.quarantine = Quarantine(resource_state(), load.now())
        self.held = Held()

    def emit(self, table: t.Table, rows: Sequence[Mapping[str, Any]]) -> Iterator[Any]:
        """Hold `rows` as `table`, and `rejected_records` for what could not go in as served;
        yield what is held once it is large enough (see `held.py`).

        The rejections are remembered only after both were yielded (delivered).
        """
        if not rows:
            return
        converted = to_arrow(table, rows)
        rejects = self.quarantine.rows(table, rows, converted)
        self.counts.loaded += converted.table.num_rows
        self.counts.rejected += len((set(converted.problems) | set(converted.notes)) - set(converted.dropped))
        self.counts.rejected += len(converted.dropped)
        self.undeclared.update(f"{table.name}.{name}" for name in converted.undeclared)
        self.held.add(table, converted.table)
        if rejects:
            self.held.add(t.REJECTED, to_arrow(t.REJECTED, rejects).table)
        self.held.after(self.quarantine.commit)
        if self.held.full:
            yield from self.flush()

    def after(self, change: Callable[[], None]) -> None:
        """Change the state once every row emitted so far has been yielded (delivered)."""
        self.held.after(change)

    def flush(self) -> Iterator[Any]:
        """Yield every row emitted so far, then make the state changes waiting for them
        (a generator closed while it yields makes none of them)."""
        tables, changes = self.held.take()
        for table, arrow in tables:
            yield routed(table, arrow)
        for change in changes:
            change()

    def out_of_time(self, where: str) -> bool:
        """Whether the load's time is up; if so, the job stops here and says so once."""
        if self.stopped or not self.load.out_of_time():
            return self.stopped
        self.stopped = True
        minutes = (self.load.deadline_s or 0) / 60
        self.notes.append(f"stopped {where}: max_load_minutes ({minutes:g}) used up")
        log.warning("%s: the load's time (max_load_minutes=%g) is up; stopped %s. What was "
                    "loaded is kept and the cursor covers only that; the next run goes on.",
                    self.name, minutes, where)
        return True

    def batch_done(self, had_work: bool) -> bool:
        """Count a batch; True when the batches asked for by `add_limit` are done: the
        resource then stops where what it delivered is complete, and says so once."""
        self.batches += had_work
        if self.batch_limit is None or self.batches < self.batch_limit or self.stopped:
            return self.stopped
        self.stopped = self.limited = True
        self.notes.append(f"stopped after {self.batches} batches (add_limit)")
        log.info("%s: stopped after the %d batches add_limit asked for; the next run goes on",
                 self.name, self.batches)
        return True

    def closing_items(self, status: str = "ok") -> Iterator[Any]:
        """The job's `load_ledger` row; and, while the warehouse has none, an empty
        `rejected_records`, so that the table readers and dashboards query always exists.
        What the job still holds is yielded first."""
        yield from self.flush()
        if not _has_data_table(t.REJECTED.name):
            yield routed(t.REJECTED, [])
        yield self._ledger_item("limited" if self.limited else "stopped" if self.stopped else status)

    def _ledger_item(self, status: str) -> Any:
        window = self.window
        return routed(t.LOAD_LEDGER, [{
            "load_id": dlt.current.load_package_state()["load_id"],
            "resource": self.name,
            "started_at": iso(self.started),
            "finished_at": iso(datetime.now(timezone.utc)),
            "status": status,
            "window_range": window.range if window else None,
            "window_since": iso(window.since) if window else None,
            "pages": self.counts.pages,
            "rows_listed": self.counts.listed,
            "rows_loaded": self.counts.loaded,
            "rows_skipped": self.counts.skipped,
            "rows_vanished": self.counts.vanished,
            "rows_rejected": self.counts.rejected,
            "requests": self.stats.requests,
            "retries": self.stats.retries,
            "rate_limited": self.stats.rate_limited,
            "seconds": round(time.monotonic() - self._clock, 3),
            "undeclared_fields": sorted(self.undeclared) or None,
            "message": "; ".join(self.notes) or None,
        }])


def _has_data_table(name: str) -> bool:
    """Whether the source's schema has `name` with columns. Resources run in threads of their
    own while dlt's extract changes the schema: a read that meets a change counts as absent
    (an empty table is yielded that was not needed, which costs nothing)."""
    try:
        return name in dlt.current.source_schema().data_table_names()
    except RuntimeError:  # "dictionary changed size during iteration"
        return False
