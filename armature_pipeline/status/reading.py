"""The warehouse's record of its loads, read for `status` without holding or creating anything.

    DuckDB    the warehouse's read copy, opened read-only (`armature_analytics.reader`); with
              read copies off, the warehouse itself, never while this pipeline's load holds
              its lock (see `status.gather`)
    other     a throwaway dlt pipeline in a temporary folder (a copy of the working folder's
              state and schemas when there is one) whose SQL client reads the dataset

Read by `armature_analytics.load_health`'s queries: the newest successful load, the ledger's
newest row per resource, the coverage gaps newest first, the rejected records by table and
reason, row counts.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from armature_analytics import load_health, reader
from armature_source import tables as t

SHOWN_GAPS = 10
SHOWN_REJECT_GROUPS = 10


class Unreadable(Exception):
    """The destination could not be read; the message says why, in one line."""


class NotThere(Unreadable):
    """Nothing of this pipeline at the destination: no file, no dataset."""


@dataclass
class Reading:
    where: str
    last_load_at: datetime | None = None
    last_load_id: str | None = None
    ledger: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    # the source creates coverage_gaps with its first gap: no table means none found
    gap_count: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    reject_count: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


def read_duckdb(path: str, dataset: str, wait_s: float | None = None) -> tuple[Reading, reader.Opened]:
    """Read a DuckDB file (the read copy, or the warehouse), holding it only while reading."""
    where = f"duckdb file {path}"
    try:
        con = reader.connect(path, dataset, wait_s=wait_s)
    except reader.WarehouseNotFound:
        raise NotThere(f"no DuckDB file at {path}") from None
    except reader.DatasetNotFound as exc:
        raise NotThere(str(exc)) from None
    except reader.ReadError as exc:
        raise Unreadable(str(exc)) from None
    try:
        db = load_health.DuckDbTables(con)
        catalog = db.rows("select table_name, table_type from information_schema.tables where "
                          "table_catalog = current_database() and table_schema = current_schema()")
        reading = _read(where, db)
        reading.tables = sorted(r["table_name"] for r in catalog if r["table_type"] == "BASE TABLE")
        reading.views = sorted(r["table_name"] for r in catalog if r["table_type"] == "VIEW")
        reading.row_counts = load_health.row_counts(db, sorted(set(t.BY_NAME) & set(reading.tables)))
        opened = reader.opened(con)
    finally:
        con.close()
    return reading, opened


def read_sql(pipeline_name: str, destination: str, dataset: str, working_dir: Path) -> Reading:
    """Read another destination through the SQL client of a throwaway pipeline."""
    import dlt

    with _scratch_copy(pipeline_name, working_dir) as folder:
        try:
            pipeline = dlt.pipeline(pipeline_name, destination=destination, dataset_name=dataset,
                                    pipelines_dir=str(folder))
            with pipeline.sql_client() as client:
                if not client.has_dataset():
                    raise NotThere(f"{destination} has no dataset {dataset!r}")
                db = load_health.SqlClientTables(client)
                reading = _read(destination, db)
                reading.row_counts = load_health.row_counts(db, sorted(t.BY_NAME))
        except Unreadable:
            raise
        except Exception as exc:  # an unreachable server, refused credentials, a missing driver
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise Unreadable(f"cannot read {destination} dataset {dataset!r}: "
                             f"{type(exc).__name__}: {first}") from None
    return reading


def _read(where: str, db: load_health.Tables) -> Reading:
    reading = Reading(where)
    reading.last_load_at = load_health.last_success(db)
    reading.last_load_id = load_health.newest_load(db)
    reading.ledger = load_health.newest_ledger(db)
    reading.gap_count, reading.gaps = load_health.gaps(db, SHOWN_GAPS)
    reading.reject_count, reading.rejects = load_health.rejects(db, SHOWN_REJECT_GROUPS)
    return reading


@contextmanager
def _scratch_copy(pipeline_name: str, working_dir: Path) -> Iterator[Path]:
    """A temporary pipelines folder holding a copy of the pipeline's state and schemas."""
    with tempfile.TemporaryDirectory(prefix="armature-status-") as folder:
        if working_dir.is_dir():
            target = Path(folder) / pipeline_name
            target.mkdir()
            if (working_dir / "state.json").exists():
                shutil.copy2(working_dir / "state.json", target / "state.json")
            if (working_dir / "schemas").is_dir():
                shutil.copytree(working_dir / "schemas", target / "schemas")
        yield Path(folder)
