"""`status`'s judgement of a failed last run against the loads the warehouse holds, on the
records and readings `status` gathers (the gathering itself is tested in test_status.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from armature_pipeline.load.last_run import LastRun
from armature_pipeline.status.model import Status, judge
from armature_pipeline.status.reading import Reading

ENDED = datetime(2026, 12, 7, 5, 32, 26, 400000, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


def _failed(load_began: datetime, warehouse_ahead: timedelta = timedelta(0)) -> list[str]:
    """The failed-run problem `status` finds when the newest load began at `load_began` (this
    machine's clock, its id) and the warehouse stamped it on a clock `warehouse_ahead`."""
    run = LastRun("armature", 1, "terminated (SIGTERM) during the load", (ENDED - 2 * SECOND).isoformat(),
                  ENDED.isoformat(timespec="milliseconds"), 2.0)
    reading = Reading("postgres", last_load_at=load_began + 0.1 * SECOND + warehouse_ahead,
                      last_load_id=str(load_began.timestamp()))
    found = Status("armature", None, "armature_data", "postgres", Path("."), last_run=run, reading=reading)
    return [p for p in judge(found) if p.startswith("the last run failed")]


def test_a_load_the_failed_run_made_itself_never_makes_it_healthy_whatever_the_warehouse_clock() -> None:
    # found by the simulation tester (Postgres seed 90016): a run terminated after its own load
    # read as superseded by it (the record kept whole seconds, and was compared with the time
    # the warehouse stamped on the load, on another clock)
    assert _failed(ENDED - 0.3 * SECOND)
    assert _failed(ENDED - 0.3 * SECOND, warehouse_ahead=2 * SECOND)


def test_a_load_that_began_after_the_failed_run_ended_supersedes_it() -> None:
    assert not _failed(ENDED + 0.2 * SECOND)
    assert not _failed(ENDED + 0.2 * SECOND, warehouse_ahead=-5 * SECOND)
