"""What `status` found for one pipeline, and the rules that call it healthy or not.

Unhealthy when the pipeline never ran here, when its last run failed, never ended (killed
before it could say how it ended) or left a load package pending, when the last successful
load is older than `--max-age`, when the destination cannot be read, or when a DuckDB
warehouse's read copy holds an older load than the newest one that changed data; healthy
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from armature_pipeline.load.last_run import LastRun
from armature_pipeline.load.publish import CopyRecord
from armature_pipeline.output.durations import describe_age
from armature_pipeline.status.reading import Reading


@dataclass
class CopyState:
    """A DuckDB warehouse's read copy: where, which load it holds, when it was published, in
    which storage version, and the loader's record of the load it must hold."""

    path: Path
    record: CopyRecord | None
    holds: str | None = None
    published_at: datetime | None = None
    storage_version: str | None = None
    bytes: int | None = None

    @property
    def due(self) -> str | None:
        return self.record.due if self.record else None

    @property
    def behind(self) -> bool:
        """Whether it holds an older load than the newest one that changed data."""
        due = self.due
        return due is not None and (self.holds is None or float(self.holds) < float(due))

    def publishing(self, running: bool) -> bool:
        """Whether the running load is publishing it now: behind, with no failure recorded."""
        return running and self.behind and not (self.record and self.record.error)


@dataclass
class Status:
    """What `status` found for one pipeline, and what is wrong with it."""

    pipeline: str
    organization: str | None
    dataset: str
    destination: str
    working_dir: Path
    where: str = ""
    state: dict[str, Any] | None = None
    last_run: LastRun | None = None
    pending: int = 0
    running: bool = False  # a load of this pipeline holds its lock now
    never_ended: str | None = None  # when a run began that died without recording how it ended
    reading: Reading | None = None
    copy: CopyState | None = None
    missing: str | None = None
    unreadable: str | None = None
    max_age_s: float | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def last_load_at(self) -> datetime | None:
        """When a load last succeeded: the newest in the data read, or this machine's last run
        when it succeeded later (a load that changed nothing leaves the read copy as it was)."""
        loaded = self.reading.last_load_at if self.reading else None
        run = self.last_run
        if loaded is not None and run is not None and run.ok and run.finished and run.finished > loaded:
            return run.finished
        return loaded

    @property
    def age_s(self) -> float | None:
        last = self.last_load_at
        return (self.checked_at - last).total_seconds() if last else None


def judge(found: Status) -> list[str]:
    """What is wrong, one sentence each; empty when healthy."""
    name = found.pipeline
    if found.missing and found.state is None and found.last_run is None:
        return [f"pipeline {name} has never run here: no working folder at {found.working_dir} "
                f"and {found.missing}. Run `armature-pipeline run` first, or name the pipeline "
                "with --pipeline-name (or --org)."]
    problems = []
    if found.unreadable:
        problems.append(f"the destination cannot be read: {found.unreadable}")
    elif found.missing:
        problems.append(f"the destination holds nothing of pipeline {name}: {found.missing}")
    last_ok, run = found.last_load_at, found.last_run
    if found.never_ended:
        problems.append(f"the run that began at {found.never_ended} never ended: it was killed (kill -9, "
                        "out of memory, a lost machine) before it could record how it ended; the next "
                        "run completes the data")
    elif run and not run.ok and not _superseded(found, run):
        problems.append(f"the last run failed {_ago(found, run.finished)} (exit {run.exit_code}): "
                        f"{run.message}")
    elif found.pending:
        problems.append(f"{found.pending} load package(s) are pending: a load failed at its "
                        "load step; the next run loads them first")
    if found.reading and last_ok is None:
        problems.append("no load has completed yet")
    if found.copy is not None and found.reading is not None and found.copy.behind \
            and not found.copy.publishing(found.running):
        problems.append(_behind(found.copy))
    age = found.age_s
    if found.max_age_s is not None and age is not None and age > found.max_age_s:
        problems.append(f"the last successful load is {describe_age(age)} old, older than "
                        f"--max-age ({describe_age(found.max_age_s)})")
    return problems


def _superseded(found: Status, run: LastRun) -> bool:
    """Whether a load finished whole after the failed run ended (a load the run itself made
    before it failed does not count). By the newest load's id, the time its extract began on
    the clock of the machine that ran it, which is the clock of the run's record; by the
    warehouse's time of the load when the id is not known."""
    newest = found.reading.last_load_id if found.reading else None
    finished = run.finished
    if newest is not None and finished is not None:
        try:
            return float(newest) > finished.timestamp()
        except ValueError:
            pass
    last_ok = found.last_load_at
    return last_ok is not None and (finished is None or finished <= last_ok)


def _behind(copy: CopyState) -> str:
    failed = copy.record.error if copy.record and copy.record.error else None
    why = f"publishing it failed at {copy.record.failed_at}: {failed}" if copy.record and failed else \
        "its publish did not finish"
    return (f"the read copy {copy.path} holds load {copy.holds or 'none'}, older than load {copy.due}, "
            f"the warehouse's newest that changed data ({why}); BI tools and readers see the older "
            "load. The next load publishes it again.")


def _ago(found: Status, moment: datetime | None) -> str:
    if moment is None:
        return "at an unknown time"
    return f"{describe_age((found.checked_at - moment).total_seconds())} ago"
