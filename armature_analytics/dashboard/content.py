"""What the dashboard shows, built once from the read copy: headline numbers, sections of panels,
load health. The live app and the static export both render this, so they show the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import duckdb
import pandas as pd

from armature_analytics import health, reader
from armature_analytics.dashboard import charts, panels
from armature_analytics.dashboard.filters import EVERYTHING, Filters, narrow


@dataclass(frozen=True)
class Panel:
    """A chart (or a table) with what to say when there is nothing to draw."""

    id: str
    chart: Any | None = None
    table: pd.DataFrame | None = None
    empty: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    panels: tuple[Panel, ...]
    note: str = ""


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    value: str


@dataclass(frozen=True)
class Board:
    """Everything one rendering of the dashboard shows."""

    source: str
    dataset: str
    taken_at: datetime
    freshness: health.Freshness
    kpis: tuple[Kpi, ...]
    sections: tuple[Section, ...] = field(default=())
    filters: Filters = EVERYTHING

    def charts(self) -> dict[str, Any]:
        """Every chart drawn, by panel id."""
        return {p.id: p.chart for s in self.sections for p in s.panels if p.chart is not None}


SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Workflow runs", ("pass_rate_daily", "pass_rate_by_workflow", "flakiness", "failing_criteria")),
    ("Tools and cost", ("tool_reliability", "cost")),
    ("MCP usage", ("session_outcomes", "topic_trends", "unmet_demand", "failed_searches")),
)
NOT_LOADED = "not loaded yet: the view is not in the warehouse (insights off, or loads limited by --resources)"


def build(con: duckdb.DuckDBPyConnection, filters: Filters = EVERYTHING) -> Board:
    """The dashboard's content from a connection of `armature_analytics.reader.connect`,
    narrowed to what `filters` keep (the load health is never narrowed)."""
    opened = reader.opened(con)
    source, dataset, taken_at = opened.path.name, opened.dataset, opened.written_at
    narrow(con, filters)
    rows = panels.read_all(con)
    until = filters.end or datetime.now(timezone.utc).date()
    flaky = panels.flaky_recently(con, until)
    fresh = health.freshness(con)
    gaps = health.row_count(con, health.COVERAGE_GAPS)
    sections = [
        Section(title, tuple(_panel(name, rows[name], gaps, bool(filters)) for name in names))
        for title, names in SECTIONS
    ]
    sections.append(_health(con, fresh))
    return Board(source, str(dataset), taken_at, fresh, _kpis(rows, fresh, flaky, until), tuple(sections), filters)


def _panel(name: str, frame: pd.DataFrame | None, gaps: int | None, filtered: bool) -> Panel:
    if frame is None:
        return Panel(name, empty=NOT_LOADED)
    if frame.empty:
        return Panel(name, empty="no rows for these filters" if filtered else "nothing to show yet: no rows")
    if name == "session_outcomes":
        span = health.span_note(list(frame["day"]), gaps)
        return Panel(name, chart=charts.session_outcomes(frame, span))
    return Panel(name, chart=charts.CHARTS[name](frame))


def _kpis(rows: dict[str, pd.DataFrame | None], fresh: health.Freshness, flaky: int | None,
          until: date) -> tuple[Kpi, ...]:
    daily, cost, sessions = (rows[n] for n in ("pass_rate_daily", "cost", "session_outcomes"))
    today = until == datetime.now(timezone.utc).date()
    judged = int(daily.judged_runs.sum()) if daily is not None else 0
    passed = int(daily.passed.sum()) if daily is not None else 0
    found = [
        Kpi("pass-rate", "pass rate, judged runs", f"{100 * passed / judged:.1f}%" if judged else "-"),
        Kpi("judged-runs", "judged runs", f"{judged:,}"),
        Kpi("flaky-workflows", "workflows flaky in the last 7 days" if today else
            f"workflows flaky in the 7 days to {until:%d %b}", str(flaky) if flaky is not None else "-"),
        Kpi("cost", "cost of finished runs",
            f"${cost.total_cost_usd.sum():,.2f}" if cost is not None else "-"),
        Kpi("sessions", "sessions loaded", f"{int(sessions.sessions.sum()):,}" if sessions is not None else "-"),
        Kpi("freshness", "last successful load", fresh.describe()),
    ]
    return tuple(found)


def _health(con: duckdb.DuckDBPyConnection, fresh: health.Freshness) -> Section:
    gaps = health.newest_rows(con, health.COVERAGE_GAPS)
    rejected = health.newest_rows(con, health.REJECTED_RECORDS)
    ledger = health.newest_rows(con, health.LOAD_LEDGER, limit=200)
    found = [
        _table("coverage_gaps", gaps, "no coverage_gaps table yet", "no coverage gaps recorded"),
        _table("rejected_records", rejected, "no rejected_records table yet", "no records rejected"),
    ]
    if ledger is None:
        found.append(Panel("load_ledger", empty="no ledger yet: this warehouse has no load_ledger table"))
    elif ledger.empty:
        found.append(Panel("load_ledger", empty="no ledger yet: load_ledger has no rows"))
    else:
        last = health.last_load(ledger)
        readable = {health.LEDGER_RESOURCE, health.LEDGER_ROWS} <= set(last.columns)
        chart = charts.ledger_rows(last) if readable else None
        found.append(Panel("load_ledger", chart=chart, table=ledger))
    note = f"Last successful load {fresh.describe()}."
    return Section("Load health", tuple(found), note)


def _table(name: str, frame: pd.DataFrame | None, absent: str, none: str) -> Panel:
    if frame is None:
        return Panel(name, empty=absent)
    if frame.empty:
        return Panel(name, empty=none)
    return Panel(name, table=frame)


TITLES = {
    "coverage_gaps": "Coverage gaps: what the API could not serve",
    "rejected_records": "Rejected records: what could not be loaded as served",
    "load_ledger": "Load ledger: one row per resource per load",
}


def title_of(panel: Panel) -> str:
    """A heading for a panel shown without a chart of its own."""
    return TITLES.get(panel.id, panel.id.replace("_", " "))
