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

from armature_analytics.views import existing_tables
from armature_source.tables import ALL_TABLES, COVERAGE, REJECTED
from armature_pipeline.warehouse.duckdb_file import duckdb_path

log = logging.getLogger("armature_dagster")

# dlt's record of every load it completed; status 0 is a load that finished
LOADS_TABLE = "_dlt_loads"


@dataclass
class Facts:
    """One organization's warehouse right after a load."""

    totals: dict[str, int] = field(default_factory=dict)  # rows in each table that exists
    new_gaps: list[dict[str, Any]] = field(default_factory=list)  # coverage_gaps of this load
    new_rejected: list[dict[str, Any]] = field(default_factory=list)  # rejected_records of it
    last_success: datetime | None = None


def read_facts(pipeline: dlt.Pipeline, load_ids: Sequence[str]) -> Facts:
    """Rows per table, this load's gaps and rejections, and the last successful load."""
    present = existing_tables(pipeline, {t.name for t in ALL_TABLES})
    facts = Facts()
    with pipeline.sql_client() as client:
        for table in ALL_TABLES:
            if table.name in present:
                facts.totals[table.name] = int(_rows(client, f"select count(*) from {_name(client, table.name)}")[0][0])
        if COVERAGE.name in present:
            facts.new_gaps = _of_loads(client, COVERAGE.name, ("resource", "kind", "range", "message"), load_ids)
        if REJECTED.name in present:
            facts.new_rejected = _of_loads(client, REJECTED.name, ("table_name", "record_key", "reason"), load_ids)
        facts.last_success = _last_success(client)
    return facts


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
            return True, _last_success(client)
    except Exception as exc:  # a held file, an unreachable server: no verdict this time
        log.warning("could not read the last successful load of pipeline %s: %s",
                    pipeline.pipeline_name, exc)
        return False, None


def age_minutes(when: datetime, now: datetime | None = None) -> float:
    moment = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return ((now or datetime.now(timezone.utc)) - moment).total_seconds() / 60


def _is_duckdb(pipeline: dlt.Pipeline) -> bool:
    return pipeline.destination is not None and pipeline.destination.destination_name == "duckdb"


def _last_success(client: Any) -> datetime | None:
    try:
        rows = _rows(client, f"select max(inserted_at) from {_name(client, LOADS_TABLE)} where status = 0")
    except Exception:  # the dataset exists but dlt never finished a load into it
        return None
    value = rows[0][0] if rows else None
    return value if isinstance(value, datetime) else None


def _of_loads(client: Any, table: str, columns: Sequence[str], load_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not load_ids:
        return []
    marks = ", ".join(["%s"] * len(load_ids))
    rows = _rows(client, f"select {', '.join(columns)} from {_name(client, table)} "
                         f"where _dlt_load_id in ({marks})", *load_ids)
    return [dict(zip(columns, row)) for row in rows]


def _rows(client: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return list(client.execute_sql(sql, *args) or [])


def _name(client: Any, table: str) -> str:
    return str(client.make_qualified_table_name(table))
