"""The tables that record load health, as the dashboard shows them.

Their names and columns are the source's (`armature_source.tables.health`); `_dlt_loads` is
dlt's own. A warehouse loaded by an older version may lack `rejected_records` and
`load_ledger`: every reader here works on a connection to the read copy
(`analytics.reader.connect`) and treats a missing table as "not recorded yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

import duckdb
import pandas as pd

from armature_analytics import load_health
from armature_source import tables


@dataclass(frozen=True)
class HealthTable:
    """A table the dashboard shows as it is: its name, the columns shown, the newest first by."""

    name: str
    columns: tuple[str, ...]
    newest_by: str


LOADS = HealthTable(load_health.LOADS, ("load_id", "status", "inserted_at"), "inserted_at")
COVERAGE_GAPS = HealthTable(
    tables.COVERAGE.name,
    ("detected_at", "resource", "kind", "range", "missing_count", "message"),
    "detected_at",
)
REJECTED_KEY = "record_key"
REJECTED_RECORDS = HealthTable(
    tables.REJECTED.name, ("detected_at", "table_name", REJECTED_KEY, "reason"), "detected_at"
)
# the ledger's columns the dashboard reads by role: the load, the resource, when, rows loaded
LEDGER_LOAD, LEDGER_RESOURCE, LEDGER_STARTED, LEDGER_ROWS = "load_id", "resource", "started_at", "rows_loaded"
LOAD_LEDGER = HealthTable(
    tables.LOAD_LEDGER.name,
    tuple(c for c in tables.LOAD_LEDGER.columns if c != "message"),
    LEDGER_STARTED,
)
HEALTH_TABLES: tuple[HealthTable, ...] = (LOADS, COVERAGE_GAPS, REJECTED_RECORDS, LOAD_LEDGER)


@dataclass(frozen=True)
class Freshness:
    """When the last successful load finished, and how long ago that was when asked."""

    last_load_at: datetime | None
    age_seconds: float | None

    def describe(self) -> str:
        """`3 h 12 min ago (2026-12-01 13:02 UTC)`, or `no successful load yet`."""
        if self.last_load_at is None or self.age_seconds is None:
            return "no successful load yet"
        minutes = int(self.age_seconds // 60)
        if minutes < 1:
            ago = "less than a minute ago"
        elif minutes < 120:
            ago = f"{minutes} min ago"
        elif minutes < 48 * 60:
            ago = f"{minutes // 60} h {minutes % 60} min ago"
        else:
            ago = f"{minutes // (24 * 60)} days ago"
        return f"{ago} ({self.last_load_at:%Y-%m-%d %H:%M} UTC)"


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the connection's dataset holds a table or view of that name."""
    return bool(load_health.DuckDbTables(con).present([name]))


def freshness(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> Freshness:
    """Time since the last successful load, from dlt's `_dlt_loads`."""
    last = load_health.last_success(load_health.DuckDbTables(con))
    if last is None:
        return Freshness(None, None)
    return Freshness(last, ((now or datetime.now(timezone.utc)) - last).total_seconds())


def newest_rows(con: duckdb.DuckDBPyConnection, table: HealthTable, limit: int = 50) -> pd.DataFrame | None:
    """The newest rows of a health table, its shown columns only; None when it is absent.

    A column the table lacks (an older or newer shape of the source) is left out, not an error.
    """
    if not has_table(con, table.name):
        return None
    present = {
        r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema = current_schema() "
            "and table_name = ?",
            [table.name],
        ).fetchall()
    }
    columns = [c for c in table.columns if c in present]
    order = f"order by {table.newest_by} desc" if table.newest_by in present else ""
    quoted = ", ".join(f'"{c}"' for c in columns) or "*"
    return con.execute(f'select {quoted} from "{table.name}" {order} limit {int(limit)}').df()


def last_load(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger rows of the newest load (rows come newest first from `newest_rows`)."""
    if LEDGER_LOAD not in ledger.columns or ledger.empty:
        return ledger
    return ledger[ledger[LEDGER_LOAD] == ledger[LEDGER_LOAD].iloc[0]]


def row_count(con: duckdb.DuckDBPyConnection, table: HealthTable) -> int | None:
    """How many rows a health table holds; None when it is absent."""
    db = load_health.DuckDbTables(con)
    return load_health.count(db, table.name) if db.present([table.name]) else None


def describe_timestamp(value: object) -> str:
    """A timestamp cell as `2026-12-01 13:02 UTC`; anything else as text."""
    if isinstance(value, (datetime, pd.Timestamp)) and not pd.isna(value):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return f"{stamp.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def span_note(days: Sequence[date | datetime | pd.Timestamp], gaps: int | None) -> str:
    """`covers 24 Nov - 28 Nov 2026 (5 days) ...`: how much a sessions chart can show, and why."""
    if not len(days):
        return "no sessions loaded yet"
    first, last = pd.Timestamp(min(days)), pd.Timestamp(max(days))
    length = (last - first).days + 1
    note = (f"covers {first:%d %b} - {last:%d %b %Y} ({length} days): the API lists at most 100 "
            "sessions per window")
    if gaps is None:
        return f"{note}; no coverage_gaps table yet"
    return f"{note}; coverage_gaps has {gaps} record{'s' if gaps != 1 else ''} of what was missed"
