"""The warehouse's record of its loads, read by one set of queries for `status`, Dagster and the
dashboard.

    _dlt_loads        dlt's record of every load it finished (status 0: every job completed)
    load_ledger       one row per resource per load
    coverage_gaps     what the API could not serve
    rejected_records  what could not be loaded as served

Each query runs on a `Tables`: a DuckDB connection whose current schema is the dataset, or a
dlt SQL client on any destination. A table that is not there (a warehouse loaded by an older
version, a dataset without gaps yet) reads as empty, never as an error.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

import duckdb

from armature_source import RESOURCES
from armature_source import tables as t

LOADS = "_dlt_loads"
LEDGER, GAPS, REJECTED = t.LOAD_LEDGER.name, t.COVERAGE.name, t.REJECTED.name
LOAD_SUCCEEDED = 0  # dlt's status of a load whose every job completed

Row = dict[str, Any]


class Tables(Protocol):
    """Where the dataset's tables are read: SQL with `%s` parameters, and full table names."""

    def rows(self, sql: str, *params: Any) -> list[Row]: ...

    def name(self, table: str) -> str: ...

    def present(self, names: Sequence[str]) -> set[str]: ...


class DuckDbTables:
    """A DuckDB connection whose current schema holds the dataset."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def rows(self, sql: str, *params: Any) -> list[Row]:
        cursor = self.con.execute(sql.replace("%s", "?"), list(params))
        columns = [d[0] for d in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def name(self, table: str) -> str:
        return '"' + table.replace('"', '""') + '"'

    def present(self, names: Sequence[str]) -> set[str]:
        found = self.rows("select table_name from information_schema.tables where table_catalog = "
                          "current_database() and table_schema = current_schema()")
        return {r["table_name"] for r in found} & set(names)


class SqlClientTables:
    """A dlt SQL client (any destination dlt can query) on the pipeline's dataset."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def rows(self, sql: str, *params: Any) -> list[Row]:
        with self.client.execute_query(sql, *params) as cursor:
            columns = [d[0] for d in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def name(self, table: str) -> str:
        return str(self.client.make_qualified_table_name(table))

    def present(self, names: Sequence[str]) -> set[str]:
        return {name for name in names if self._exists(name)}

    def _exists(self, table: str) -> bool:
        try:
            self.client.execute_sql(f"select 1 from {self.name(table)} where 1 = 0")
            return True
        except Exception:
            return False


def last_success(db: Tables) -> datetime | None:
    """When the newest load that finished whole finished."""
    if not db.present([LOADS]):
        return None
    found = db.rows(f"select max(inserted_at) as newest from {db.name(LOADS)} where status = %s",
                    LOAD_SUCCEEDED)
    return utc(found[0]["newest"]) if found else None


def newest_load(db: Tables) -> str | None:
    """The id of the newest load that finished whole."""
    if not db.present([LOADS]):
        return None
    found = db.rows(f"select load_id from {db.name(LOADS)} where status = %s "
                    "order by inserted_at desc, load_id desc limit 1", LOAD_SUCCEEDED)
    return str(found[0]["load_id"]) if found else None


def newest_ledger(db: Tables) -> list[Row]:
    """The newest ledger row of each resource, in the source's order of resources."""
    if not db.present([LEDGER]):
        return []
    newest = db.rows(
        f"select * from (select *, row_number() over (partition by resource "
        f"order by started_at desc, load_id desc) as newest_first from {db.name(LEDGER)}) ranked "
        "where newest_first = 1")
    order = {r: i for i, r in enumerate(RESOURCES)}
    rows = ({c: r.get(c) for c in t.LOAD_LEDGER.columns} for r in newest)
    return sorted(rows, key=lambda r: (order.get(r["resource"], len(order)), r["resource"]))


def gaps(db: Tables, limit: int) -> tuple[int, list[Row]]:
    """How many coverage gaps there are, and the newest `limit` of them."""
    if not db.present([GAPS]):
        return 0, []
    newest = db.rows(f"select * from {db.name(GAPS)} order by detected_at desc limit {int(limit)}")
    return count(db, GAPS), [{c: r.get(c) for c in t.COVERAGE.columns} for r in newest]


def rejects(db: Tables, limit: int) -> tuple[int, list[Row]]:
    """How many records were rejected, and the newest `limit` groups by table and reason."""
    if not db.present([REJECTED]):
        return 0, []
    groups = db.rows(
        f"select table_name, reason, count(*) as records, max(detected_at) as newest "
        f"from {db.name(REJECTED)} group by table_name, reason "
        f"order by newest desc, table_name, reason limit {int(limit)}")
    return count(db, REJECTED), groups


def of_loads(db: Tables, table: str, columns: Sequence[str], load_ids: Sequence[str]) -> list[Row]:
    """The rows `load_ids` wrote to `table` (say, this load's coverage gaps)."""
    if not load_ids or not db.present([table]):
        return []
    marks = ", ".join(["%s"] * len(load_ids))
    return db.rows(f"select {', '.join(columns)} from {db.name(table)} "
                   f"where _dlt_load_id in ({marks})", *load_ids)


def row_counts(db: Tables, names: Sequence[str]) -> dict[str, int]:
    """Rows in each of `names` that exists."""
    return {name: count(db, name) for name in names if name in db.present(names)}


def count(db: Tables, table: str) -> int:
    return int(db.rows(f"select count(*) as n from {db.name(table)}")[0]["n"])


def utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
