"""What one organization's warehouse says after a load: rows per table, what this load
recorded in the health tables, and when a load last succeeded.

Read through the pipeline's own SQL client, so the same queries run on DuckDB, Postgres,
BigQuery or any other destination dlt can query; only the warehouse's own records are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import dlt

from armature_analytics import load_health
from armature_pipeline.warehouse.duckdb_file import duckdb_path
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
    with pipeline.sql_client() as client:
        db = load_health.SqlClientTables(client)
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
    path = duckdb_path(pipeline) if _is_duckdb(pipeline) else None
    if path is not None and path != ":memory:" and not Path(path).exists():
        return True, None  # never loaded; connecting would create an empty file
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return True, None
            return True, load_health.last_success(load_health.SqlClientTables(client))
    except Exception as exc:  # a held file, an unreachable server: no verdict this time
        log.warning("could not read the last successful load of pipeline %s: %s",
                    pipeline.pipeline_name, exc)
        return False, None


def age_minutes(when: datetime, now: datetime | None = None) -> float:
    moment = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return ((now or datetime.now(timezone.utc)) - moment).total_seconds() / 60


def _is_duckdb(pipeline: dlt.Pipeline) -> bool:
    return pipeline.destination is not None and pipeline.destination.destination_name == "duckdb"
