"""The warehouse's record of its loads, read for `status` without holding or creating anything.

    DuckDB    `analytics.reader.snapshot`: the file attached read-only for tens of
              milliseconds, its health tables copied into memory; never while this
              pipeline's load holds its lock (see `status.load_running`)
    other     a throwaway dlt pipeline in a temporary folder (a copy of the working folder's
              state and schemas when there is one) whose SQL client reads the dataset

Read: the newest successful load (`_dlt_loads`), the ledger's newest row per resource, the
coverage gaps newest first, the rejected records by table and reason, row counts.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from armature_analytics import reader
from armature_source import RESOURCES
from armature_source import tables as t

SHOWN_GAPS = 10
SHOWN_REJECT_GROUPS = 10
LEDGER = t.LOAD_LEDGER.name
GAPS = t.COVERAGE.name
REJECTED = t.REJECTED.name
LOADS = "_dlt_loads"

Rows = Callable[[str], list[dict[str, Any]]]


class Unreadable(Exception):
    """The destination could not be read; the message says why, in one line."""


class NotThere(Unreadable):
    """Nothing of this pipeline at the destination: no file, no dataset."""


@dataclass
class Reading:
    where: str
    last_load_at: datetime | None = None
    ledger: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    # the source creates coverage_gaps with its first gap: no table means none found
    gap_count: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    reject_count: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


def read_duckdb(path: str, dataset: str, wait_s: float | None = None) -> Reading:
    """Read a DuckDB warehouse through an in-memory snapshot."""
    where = f"duckdb file {path}"
    try:
        con = reader.snapshot(path, dataset, wait_s=wait_s, catalog=True)
    except reader.WarehouseNotFound:
        raise NotThere(f"no DuckDB file at {path}") from None
    except reader.DatasetNotFound as exc:
        raise NotThere(str(exc)) from None
    except reader.SnapshotError as exc:
        raise Unreadable(str(exc)) from None
    try:
        catalog = _dicts(con.execute("select * from _catalog"))
        present = {r["table_name"] for r in _dicts(con.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = current_schema()"))}
        reading = _read(where, lambda sql: _dicts(con.execute(sql)), lambda name: f'"{name}"', present)
    finally:
        con.close()
    reading.row_counts = {r["table_name"]: r["row_count"] for r in catalog
                          if r["table_name"] in t.BY_NAME and r["row_count"] is not None}
    reading.tables = sorted(r["table_name"] for r in catalog if r["table_type"] == "BASE TABLE")
    reading.views = sorted(r["table_name"] for r in catalog if r["table_type"] == "VIEW")
    return reading


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
                present = {name for name in (LEDGER, GAPS, REJECTED, LOADS, *t.BY_NAME)
                           if _exists(client, name)}
                reading = _read(destination, lambda sql: _client_rows(client, sql),
                                client.make_qualified_table_name, present)
                for name in sorted(present & set(t.BY_NAME)):
                    reading.row_counts[name] = int(_client_rows(
                        client, f"select count(*) as n from {client.make_qualified_table_name(name)}")[0]["n"])
        except Unreadable:
            raise
        except Exception as exc:  # an unreachable server, refused credentials, a missing driver
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise Unreadable(f"cannot read {destination} dataset {dataset!r}: "
                             f"{type(exc).__name__}: {first}") from None
    return reading


def _read(where: str, rows: Rows, name: Callable[[str], str], present: set[str]) -> Reading:
    reading = Reading(where)
    if LOADS in present:
        found = rows(f"select max(inserted_at) as newest from {name(LOADS)} where status = 0")
        reading.last_load_at = _utc(found[0]["newest"]) if found else None
    if LEDGER in present:
        newest = rows(
            f"select * from (select *, row_number() over (partition by resource "
            f"order by started_at desc, load_id desc) as newest_first from {name(LEDGER)}) ranked "
            "where newest_first = 1")
        order = {r: i for i, r in enumerate(RESOURCES)}
        reading.ledger = sorted(({c: r.get(c) for c in t.LOAD_LEDGER.columns} for r in newest),
                                key=lambda r: (order.get(r["resource"], len(order)), r["resource"]))
    if GAPS in present:
        reading.gap_count = _count(rows, name(GAPS))
        reading.gaps = [{c: r.get(c) for c in t.COVERAGE.columns} for r in rows(
            f"select * from {name(GAPS)} order by detected_at desc limit {SHOWN_GAPS}")]
    if REJECTED in present:
        reading.reject_count = _count(rows, name(REJECTED))
        reading.rejects = rows(
            f"select table_name, reason, count(*) as records, max(detected_at) as newest "
            f"from {name(REJECTED)} group by table_name, reason "
            f"order by newest desc, table_name, reason limit {SHOWN_REJECT_GROUPS}")
    return reading


def _count(rows: Rows, table: str) -> int:
    return int(rows(f"select count(*) as n from {table}")[0]["n"])


def _dicts(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _client_rows(client: Any, sql: str) -> list[dict[str, Any]]:
    with client.execute_query(sql) as cursor:
        return _dicts(cursor)


def _exists(client: Any, table: str) -> bool:
    try:
        client.execute_sql(f"select 1 from {client.make_qualified_table_name(table)} where 1 = 0")
        return True
    except Exception:
        return False


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
