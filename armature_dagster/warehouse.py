"""What one organization's warehouse says after a load: rows per table, what this load
recorded in the health tables, and when a load last succeeded.

On DuckDB they read the warehouse's read copy, which the load publishes before these run
(`armature_pipeline.load.publish`): never the file a load writes. Elsewhere they read through the
pipeline's own SQL client, so the same queries run on Postgres, BigQuery or any other
destination dlt can query; only the warehouse's own records are read.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

import dlt

from armature_analytics import load_health, reader
from armature_pipeline.load.publish import warehouse_file
from armature_pipeline.warehouse.read_copy import for_reading
from armature_source.tables import ALL_TABLES, COVERAGE, REJECTED

log = logging.getLogger("armature_dagster")



@dataclass
class Facts:
    """One organization's warehouse right after a load."""

    totals: dict[str, int] = field(default_factory=dict)  # rows in each table that exists
    new_gaps: list[dict[str, Any]] = field(default_factory=list)  # coverage_gaps of this load
    new_rejected: list[dict[str, Any]] = field(default_factory=list)  # rejected_records of it
    last_success: datetime | None = None


def read_facts(pipeline: dlt.Pipeline, load_ids: Sequence[str]) -> Facts:
    """Rows per table, this load's gaps and rejections, and the last successful load."""
    with _tables(pipeline, load_ids) as db:
        return Facts(
            totals=load_health.row_counts(db, [t.name for t in ALL_TABLES]),
            new_gaps=load_health.of_loads(db, COVERAGE.name, ("resource", "kind", "range", "message"), load_ids),
            new_rejected=load_health.of_loads(db, REJECTED.name, ("table_name", "record_key", "reason"), load_ids),
            last_success=load_health.last_success(db),
        )


def last_successful_load(pipeline: dlt.Pipeline) -> tuple[bool, datetime | None]:
    """When this organization's warehouse last finished a load, read after a failed one.

    Returns:
        (known, when): known is False when the warehouse could not be read (it may be held by
        another process); when is None when no load ever finished there.
    """
    warehouse = warehouse_file(pipeline)
    if warehouse is not None and not warehouse.exists() and not for_reading(warehouse).exists():
        return True, None  # never loaded; connecting would create a file
    try:
        with _tables(pipeline) as db:
            return True, load_health.last_success(db) if db is not None else None
    except reader.DatasetNotFound:
        return True, None
    except Exception as exc:  # an unreachable server, a broken file: no verdict this time
        log.warning("could not read the last successful load of pipeline %s: %s",
                    pipeline.pipeline_name, exc)
        return False, None


def age_minutes(when: datetime, now: datetime | None = None) -> float:
    moment = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return ((now or datetime.now(timezone.utc)) - moment).total_seconds() / 60


@contextmanager
def _tables(pipeline: dlt.Pipeline, holding: Sequence[str] = ()) -> Iterator[Any]:
    """The dataset's tables: the read copy of a DuckDB warehouse when it holds the loads
    `holding`, else the destination's dataset through dlt (None when it has none yet). A copy
    whose publish failed is never newer than the warehouse: then, right after the load and
    still under its lock, the warehouse itself is read."""
    warehouse = warehouse_file(pipeline)
    if warehouse is not None and (not holding or for_reading(warehouse).exists()):
        con = reader.connect(for_reading(warehouse), pipeline.dataset_name)
        try:
            db = load_health.DuckDbTables(con)
            newest = load_health.newest_load(db)
            if not holding or (newest is not None and float(newest) >= max(map(float, holding))):
                yield db
                return
        finally:
            con.close()
    with pipeline.sql_client() as client:
        yield load_health.SqlClientTables(client) if client.has_dataset() else None
