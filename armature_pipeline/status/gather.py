"""Gathering one pipeline's status, reading but never creating anything.

The pipeline's state is read from its working folder's `state.json`, the last run's outcome
from `load.last_run`, and the warehouse through `status.reading`. On DuckDB that is the read
copy the loader publishes (`warehouse.read_copy`), never the file a load writes, beside the
record of the last publish (`load.publish`): which load the copy must hold. With read copies
off it is the warehouse itself, and never while a load of this pipeline holds its lock (DuckDB
lets a load open the file only while no other process has it open).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from dlt.common.pipeline import get_dlt_pipelines_dir

from armature_analytics.held_file import waiting
from armature_pipeline.config import duckdb_settings
from armature_pipeline.load.last_run import never_ended
from armature_pipeline.load.last_run import read as read_last_run
from armature_pipeline.load.lock import is_held
from armature_pipeline.load.publish import read_record
from armature_pipeline.settings import Settings
from armature_pipeline.status.model import CopyState, Status, judge
from armature_pipeline.status.reading import NotThere, Reading, Unreadable, read_duckdb, read_sql
from armature_pipeline.warehouse.location import duckdb_file
from armature_pipeline.warehouse.read_copy import copy_of, missing_copy

log = logging.getLogger("armature_pipeline")

POLL_S = 0.5


def gather(settings: Settings, organization: str | None = None,
          max_age_s: float | None = None) -> Status:
    """Gather one pipeline's status, reading but never creating anything."""
    root = Path(settings.pipelines_dir or get_dlt_pipelines_dir())
    working = root / settings.pipeline_name
    state = _state(working)
    dataset = settings.dataset
    if state and not settings.dataset_named and state.get("dataset_name"):
        dataset = str(state["dataset_name"])  # the dataset it loads, not the default
    kind = settings.destination or _short_name(state) or "duckdb"
    running = is_held(root, settings.pipeline_name)
    found = Status(settings.pipeline_name, organization, dataset, kind, working, where=kind,
                   running=running, state=state, last_run=read_last_run(root, settings.pipeline_name),
                   # a running load's own packages are not left pending by a failed one, nor
                   # is its mark that it began one of a run that never ended
                   pending=0 if running else _pending(working),
                   never_ended=None if running else never_ended(root, settings.pipeline_name),
                   max_age_s=max_age_s)
    try:
        file = duckdb_file(settings.pipeline_name, settings.duckdb_file) if kind == "duckdb" else None
        if file is not None:
            found.where = f"duckdb file {file.path}"
            found.reading = _read_duckdb(found, root, file.path)
        else:
            found.reading = read_sql(settings.pipeline_name, kind, dataset, working)
    except NotThere as exc:
        found.missing = str(exc)
    except Unreadable as exc:
        found.unreadable = str(exc)
    found.problems = judge(found)
    return found


def _read_duckdb(found: Status, root: Path, warehouse: Path) -> Reading:
    """The read copy, and what it holds; the warehouse itself when read copies are off or no
    load by `armature-pipeline run` ever published one here."""
    settings = duckdb_settings()
    copy = copy_of(warehouse, settings)
    record = read_record(root, found.pipeline) if copy is not None else None
    if copy is None or (record is None and not copy.exists()):
        # read copies off, or none owed: no load run by this command here (a library pipeline)
        _wait_for_load(root, found.pipeline, settings.wait_s or 0.0)
        return read_duckdb(str(warehouse), found.dataset, settings.wait_s)[0]
    found.copy = CopyState(copy, record)
    _check_warehouse(warehouse, copy)
    if not copy.exists():
        raise Unreadable(missing_copy(warehouse, copy))
    # the copy is only ever replaced whole, by a rename: no load to wait for
    reading, opened = read_duckdb(str(copy), found.dataset, wait_s=0.0)
    found.copy.holds, found.copy.published_at = reading.last_load_id, opened.written_at
    found.copy.storage_version, found.copy.bytes = opened.storage_version, copy.stat().st_size
    return reading


def _check_warehouse(warehouse: Path, copy: Path) -> None:
    """The warehouse is there and is a DuckDB file (its header read, never opened: a load may
    hold it), else the copy speaks of a warehouse that is gone."""
    if not warehouse.exists():
        raise NotThere(f"no DuckDB file at {warehouse}" + (f" (its read copy {copy} is left)" if copy.exists() else ""))
    with open(warehouse, "rb") as handle:
        if handle.read(12)[8:12] != b"DUCK":
            raise Unreadable(f"{warehouse} is not a DuckDB database file; name the file a load writes.")


def _wait_for_load(root: Path, pipeline_name: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while is_held(root, pipeline_name):
        if time.monotonic() >= deadline:
            raise Unreadable(
                f"a load of pipeline {pipeline_name} is running (for more than {wait_s:g} s); "
                "status does not open the DuckDB file while a load writes it. Run status "
                f"again when the load ends, or set [armature.duckdb] wait_s to wait longer.")
        waiting(log, f"the running load of pipeline {pipeline_name} to end", deadline)
        time.sleep(POLL_S)


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


