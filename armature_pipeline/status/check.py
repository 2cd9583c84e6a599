"""`armature-pipeline status`: is the pipeline healthy, and what did its last loads do.

Unhealthy (exit 1) when the pipeline never ran here, when its last run failed (or left a
load package pending), when the last successful load is older than `--max-age`, or when
the destination cannot be read; healthy (exit 0) otherwise. It never creates anything: the
pipeline's state is read from its working folder's `state.json`, the last run's outcome from
`pipelines.last_run`, and the warehouse through `pipelines.health_reading` (on DuckDB an
in-memory snapshot, and never while a load of this pipeline holds its lock: DuckDB lets a
load open the file only while no other process has it open, and a load opens it several
times, so a reader at the wrong moment would make the load fail).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlt.common.pipeline import get_dlt_pipelines_dir
from filelock import FileLock, Timeout

from armature_pipeline.status import reading as health_reading, render as status_render
from armature_pipeline.output import logs
from armature_pipeline.warehouse.destination import duckdb_destination
from armature_pipeline.output.durations import describe_age
from armature_pipeline.status.reading import NotThere, Reading, Unreadable
from armature_pipeline.load.last_run import LastRun
from armature_pipeline.load.last_run import read as read_last_run
from armature_pipeline.settings import EXIT_FAILED, EXIT_OK, Settings

log = logging.getLogger("armature_pipeline")

WAIT_ENV, WAIT_DEFAULT_S = "ARMATURE_DUCKDB_WAIT_S", 30.0
POLL_S = 0.5


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
    reading: Reading | None = None
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
        return self.reading.last_load_at if self.reading else None

    @property
    def age_s(self) -> float | None:
        last = self.last_load_at
        return (self.checked_at - last).total_seconds() if last else None


def show(targets: list[tuple[str | None, Settings]], *, as_json: bool = False,
         max_age_s: float | None = None) -> int:
    """Print the status of each pipeline; exit 0 when every one is healthy, else 1."""
    statuses = [check(settings, org, max_age_s) for org, settings in targets]
    if as_json:
        document: Any = (status_render.as_dict(statuses[0]) if len(statuses) == 1 and
                         statuses[0].organization is None else
                         {"healthy": all(s.healthy for s in statuses),
                          "organizations": [status_render.as_dict(s) for s in statuses]})
        print(json.dumps(document, default=str), flush=True)
    else:
        print("\n\n".join(status_render.as_text(s) for s in statuses), flush=True)
    return EXIT_OK if all(s.healthy for s in statuses) else EXIT_FAILED


def check(settings: Settings, organization: str | None = None,
          max_age_s: float | None = None) -> Status:
    """Gather one pipeline's status, reading but never creating anything."""
    root = Path(settings.pipelines_dir or get_dlt_pipelines_dir())
    working = root / settings.pipeline_name
    state = _state(working)
    dataset = settings.dataset
    if state and not settings.dataset_named and state.get("dataset_name"):
        dataset = str(state["dataset_name"])  # the dataset it loads, not the default
    kind = settings.destination or _short_name(state) or "duckdb"
    found = Status(settings.pipeline_name, organization, dataset, kind, working, where=kind,
                   state=state, last_run=read_last_run(root, settings.pipeline_name),
                   pending=_pending(working), max_age_s=max_age_s)
    try:
        if kind == "duckdb":
            path = _duckdb_file(settings.pipeline_name, dataset)
            found.where = f"duckdb file {path}"
            _wait_for_load(root, settings.pipeline_name)
            found.reading = health_reading.read_duckdb(path, dataset, _wait_s())
        else:
            found.reading = health_reading.read_sql(settings.pipeline_name, kind, dataset, working)
    except NotThere as exc:
        found.missing = str(exc)
    except Unreadable as exc:
        found.unreadable = str(exc)
    found.problems = judge(found)
    return found


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
    if run and not run.ok and (last_ok is None or (run.finished and run.finished > last_ok)):
        problems.append(f"the last run failed {_ago(found, run.finished)} (exit {run.exit_code}): "
                        f"{run.message}")
    elif found.pending:
        problems.append(f"{found.pending} load package(s) are pending: a load failed at its "
                        "load step; the next run loads them first")
    if found.reading and last_ok is None:
        problems.append("no load has completed yet")
    age = found.age_s
    if found.max_age_s is not None and age is not None and age > found.max_age_s:
        problems.append(f"the last successful load is {describe_age(age)} old, older than "
                        f"--max-age ({describe_age(found.max_age_s)})")
    return problems


def load_running(root: Path, pipeline_name: str) -> bool:
    """Whether a run of the pipeline holds its lock (the lock file of `pipelines.lock`).

    Taken and given back at once when free: a load starting in those microseconds would
    find it taken and exit 3 (another run in progress), never half-load.
    """
    path = root / f".{pipeline_name}.lock"
    if not path.exists():
        return False
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False


def _wait_for_load(root: Path, pipeline_name: str) -> None:
    wait_s = _wait_s()
    deadline = time.monotonic() + wait_s
    while load_running(root, pipeline_name):
        if time.monotonic() >= deadline:
            raise Unreadable(
                f"a load of pipeline {pipeline_name} is running (for more than {wait_s:g} s); "
                "status does not open the DuckDB file while a load writes it. Run status "
                f"again when the load ends, or set {WAIT_ENV} to wait longer.")
        logs.waiting(log, f"the running load of pipeline {pipeline_name} to end", deadline)
        time.sleep(POLL_S)


def _wait_s() -> float:
    try:
        return max(float(os.environ.get(WAIT_ENV, WAIT_DEFAULT_S)), 0.0)
    except ValueError:
        return WAIT_DEFAULT_S


def _duckdb_file(pipeline_name: str, dataset: str) -> str:
    factory = duckdb_destination(pipeline_name, dataset)
    return str(factory.configuration(None, accept_partial=True).credentials.database)


def _state(working: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((working / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _short_name(state: dict[str, Any] | None) -> str | None:
    """`postgres` from the state's `dlt.destinations.postgres`."""
    kind = (state or {}).get("destination_type")
    return str(kind).rsplit(".", 1)[-1] if kind else None


def _pending(working: Path) -> int:
    """Load packages extracted or normalized but not loaded (a failed load left them)."""
    folders = (working / "normalize" / "extracted", working / "load" / "normalized")
    return sum(len([p for p in f.iterdir() if p.is_dir()]) for f in folders if f.is_dir())


def _ago(found: Status, moment: datetime | None) -> str:
    if moment is None:
        return "at an unknown time"
    return f"{describe_age((found.checked_at - moment).total_seconds())} ago"
