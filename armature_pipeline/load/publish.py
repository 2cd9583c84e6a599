"""After a load, still under the pipeline's lock: publish the read copy of a DuckDB warehouse
when the load changed something, and keep a record of it for `status`.

Each publish is recorded in one small file beside the pipeline's lock:

    .armature.read_copy.json
    {"copy": "/srv/armature/armature_read.duckdb", "due": "1796585350.3178737",
     "published_load": "1796585350.3178737", "published_at": "2026-12-01T17:30:08+00:00",
     "seconds": 0.4, "bytes": 19148800, "storage_version": "v1.4.0", "error": null,
     "failed_at": null}

`due` is the newest load that changed something: the copy must hold it. It is written before
the copy is, so a publish that fails or is killed half-way leaves the record saying the copy
is behind; `status` says so, and the next load publishes again even if it changes nothing
itself. A failed publish never fails the load before it: it is logged and recorded.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt

from armature_pipeline.config import duckdb_settings
from armature_pipeline.load import derived
from armature_pipeline.load.outcome import Outcome
from armature_pipeline.warehouse import read_copy
from armature_pipeline.warehouse.duckdb_file import duckdb_path

log = logging.getLogger("armature_pipeline")



@dataclass
class CopyRecord:
    """The last publish of a pipeline's read copy, and the load the copy must hold."""

    copy: str
    due: str | None = None
    published_load: str | None = None
    published_at: str | None = None
    seconds: float | None = None
    bytes: int | None = None
    storage_version: str | None = None
    error: str | None = None
    failed_at: str | None = None

    def current(self) -> bool:
        """Whether the last publish succeeded and the copy holds every load that changed data."""
        return self.error is None and self.published_at is not None and self.published_load == self.due


def changed(outcome: Outcome, finished_pending: bool = False) -> bool:
    """Whether a load changed what readers see: rows beyond the bookkeeping every load writes,
    or packages an earlier run left pending, loaded by this one."""
    return finished_pending or derived.brought_data(outcome.rows)


def after_load(pipeline: dlt.Pipeline, outcome: Outcome, finished_pending: bool = False,
               ) -> read_copy.Published | None:
    """Publish the read copy if this load changed something (or an earlier publish is still
    owed); None when nothing was published. Never raises for a failed publish."""
    warehouse = warehouse_file(pipeline)
    if not outcome.ok or warehouse is None:
        return None
    settings = duckdb_settings()
    copy = read_copy.copy_of(warehouse, settings)
    if copy is None:
        return None
    record = read_record(pipeline.pipelines_dir, pipeline.pipeline_name)
    fresh = changed(outcome, finished_pending)
    if not fresh and record is not None and record.copy == str(copy) and record.current() and copy.exists():
        log.info("nothing changed: the read copy %s stays as published", copy)
        return None
    due = max(outcome.load_ids, key=float) if fresh and outcome.load_ids else (record.due if record else None)
    record = CopyRecord(str(copy), due=due, published_load=record.published_load if record else None)
    write_record(pipeline.pipelines_dir, pipeline.pipeline_name, record)
    try:
        published = read_copy.publish(warehouse, copy, settings)
    except Exception as exc:  # the load before it succeeded: it stays a success, whatever this was
        record.error, record.failed_at = str(exc), _now()
        write_record(pipeline.pipelines_dir, pipeline.pipeline_name, record)
        log.error("%s. The load itself succeeded; the next load publishes the copy again.", exc)
        return None
    record.published_load, record.published_at = due, _now()
    record.seconds, record.bytes = round(published.seconds, 3), published.bytes
    record.storage_version = published.storage_version
    write_record(pipeline.pipelines_dir, pipeline.pipeline_name, record)
    log.info("published the read copy %s (DuckDB storage %s, %.1f MB) in %.1f s", copy,
             published.storage_version, published.bytes / 1e6, published.seconds)
    return published


def warehouse_file(pipeline: dlt.Pipeline) -> Path | None:
    """The DuckDB file the pipeline loads; None for another destination or an in-memory one."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return None
    path = duckdb_path(pipeline)
    if not path or path == ":memory:":
        return None
    return Path(os.path.abspath(path))


def record_path(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f".{pipeline_name}.read_copy.json"


def read_record(pipelines_dir: str | Path, pipeline_name: str) -> CopyRecord | None:
    """The pipeline's last publish; None when none was ever tried here."""
    try:
        data: Any = json.loads(record_path(pipelines_dir, pipeline_name).read_text())
        return CopyRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_record(pipelines_dir: str | Path, pipeline_name: str, record: CopyRecord) -> None:
    """Write the record atomically: `status` never reads half of it."""
    target = record_path(pipelines_dir, pipeline_name)
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_text(json.dumps(asdict(record)))
    os.replace(scratch, target)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
