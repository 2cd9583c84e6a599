"""The dashboard's filters: a range of days, workflows and tester models.

They narrow by shadowing: on the reading connection, temporary views named like the base
tables hold only the rows the filters keep, and DuckDB resolves a bare name to a temporary
view first, so every reporting view, panel query and headline number reads the narrowed
rows unchanged. The read copy stays read-only: temporary views live in the connection.

    days (UTC)   runs by started_at, sessions by started_at, topic and failed-search
                 snapshots by snapshot_date
    workflows    runs (and so every chart of workflow runs and the run half of tool reliability)
    models       runs (the tester model)

Children follow their parent: a run's trace spans, tool calls and evaluations, a session's
events. The MCP charts have no workflow or model: those two leave them whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

import duckdb

from armature_analytics.health import has_table

DAY = "cast({column} at time zone 'UTC' as date)"
# table -> (its column of days, or None; the parent it follows, by which key)
SHADOWED: dict[str, tuple[str | None, tuple[str, str] | None]] = {
    "runs": ("started_at", None),
    "trace_spans": (None, ("run_id", "runs")),
    "tool_calls": (None, ("run_id", "runs")),
    "evaluations": (None, ("run_id", "runs")),
    "evaluation_criteria": (None, ("run_id", "runs")),
    "sessions": ("started_at", None),
    "session_events": (None, ("session_id", "sessions")),
    "topic_snapshots": ("snapshot_date", None),
    "failed_search_snapshots": ("snapshot_date", None),
}
QUERY_KEYS = ("from", "to", "workflow", "model")  # the page's URL may set each: ?workflow=a&workflow=b


@dataclass(frozen=True)
class Filters:
    """What to keep; an empty field keeps everything. `end` is inclusive."""

    start: date | None = None
    end: date | None = None
    workflows: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.start or self.end or self.workflows or self.models)

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> Filters:
        """From the page's query parameters (`?from=2026-11-20&to=2026-11-27&workflow=...`);
        a day that is not an ISO date is ignored."""
        def listed(key: str) -> tuple[str, ...]:
            value = params.get(key) or []
            return tuple([value] if isinstance(value, str) else value)

        def day(key: str) -> date | None:
            try:
                return date.fromisoformat(listed(key)[0]) if listed(key) else None
            except ValueError:
                return None

        return cls(day("from"), day("to"), listed("workflow"), listed("model"))


EVERYTHING = Filters()


@dataclass(frozen=True)
class Choices:
    """What the filters can pick from: the days with runs or sessions, workflows, models."""

    first_day: date | None
    last_day: date | None
    workflows: tuple[str, ...]
    models: tuple[str, ...]


def choices(con: duckdb.DuckDBPyConnection) -> Choices:
    days: list[date] = []
    for table in ("runs", "sessions"):
        if has_table(con, table):
            days.extend(d for row in con.execute(
                f"select min({DAY.format(column='started_at')}), max({DAY.format(column='started_at')}) "
                f"from {table}").fetchall() for d in row if d is not None)
    names = models = ()
    if has_table(con, "runs"):
        names = tuple(r[0] for r in con.execute(
            "select distinct workflow_name from runs where workflow_name is not null order by 1").fetchall())
        models = tuple(r[0] for r in con.execute(
            "select distinct model from runs where model is not null order by 1").fetchall())
    return Choices(min(days, default=None), max(days, default=None), names, models)


def narrow(con: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Shadow the connection's base tables with views of what `filters` keep."""
    if not filters:
        return
    dataset = str(con.execute("select current_schema()").fetchone()[0])  # type: ignore[index]
    for table, (day_column, parent) in SHADOWED.items():
        if not has_table(con, table):
            continue
        kept = ["true"]
        if day_column is not None:
            day = DAY.format(column=day_column)
            if filters.start:
                kept.append(f"{day} >= date '{filters.start.isoformat()}'")
            if filters.end:
                kept.append(f"{day} <= date '{filters.end.isoformat()}'")
        if parent is not None:
            key, parent_table = parent
            kept.append(f"{key} in (select id from {parent_table})")  # the parent's shadow
        if table == "runs":
            kept += [_one_of("workflow_name", filters.workflows), _one_of("model", filters.models)]
        con.execute(f'create or replace temp view "{table}" as select * from "{dataset}"."{table}" '
                    f"where {' and '.join(kept)}")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    if not values:
        return "true"
    return f"{column} in ({', '.join(_literal(v) for v in values)})"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def describe(filters: Filters) -> str:
    """`Showing 20 Nov - 27 Nov 2026, workflow Triage inbox, model gpt-4o`, or ''."""
    said = []
    if filters.start or filters.end:
        first = f"{filters.start:%d %b}" if filters.start else "the first day"
        last = f"{filters.end:%d %b %Y}" if filters.end else "the last"
        said.append(f"{first} - {last}")
    if filters.workflows:
        said.append(f"workflow {', '.join(filters.workflows)}")
    if filters.models:
        said.append(f"model {', '.join(filters.models)}")
    return f"Showing {'; '.join(said)}." if said else ""
