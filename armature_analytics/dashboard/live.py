"""The dashboard inside the marimo app: the newest read copy per refresh, Vega charts as SVG.

Configured through the environment, since marimo starts the app itself: ARMATURE_DUCKDB (here:
the file to open, the warehouse's read copy) and ARMATURE_DATASET, which `armature-pipeline
dashboard` sets from its flags. The filters' widgets start from the page's query parameters,
so a filtered view is a link.
"""

from __future__ import annotations

import os
from html import escape
from typing import Any, Mapping

import marimo as mo

from armature_analytics.dashboard import fragments
from armature_analytics.dashboard.content import Board, Panel, build
from armature_analytics.dashboard.filters import EVERYTHING, Filters, choices
from armature_analytics.reader import DEFAULT_DATASET, ReadError, connect

DEFAULT_COPY = "armature_read.duckdb"


def _connect() -> Any:
    database = os.environ.get("ARMATURE_DUCKDB", DEFAULT_COPY)
    return connect(database, os.environ.get("ARMATURE_DATASET", DEFAULT_DATASET))


def controls(query: Mapping[str, str | list[str]]) -> tuple[Any, Any, Any] | None:
    """The filters' widgets (days, workflows, models), set from the page's query parameters
    (`?from=...&to=...&workflow=...&model=...`); None when the warehouse cannot be read."""
    try:
        con = _connect()
    except ReadError:
        return None
    try:
        found = choices(con)
    finally:
        con.close()
    asked = Filters.from_query(query)
    days = None
    if found.first_day and found.last_day:
        start = max(found.first_day, min(asked.start or found.first_day, found.last_day))
        end = min(found.last_day, max(asked.end or found.last_day, start))
        days = mo.ui.date_range(start=found.first_day, stop=found.last_day, value=(start, end),
                                label="days (UTC)")
    workflows = mo.ui.multiselect(options=list(found.workflows), label="workflow",
                                  value=[w for w in asked.workflows if w in found.workflows])
    models = mo.ui.multiselect(options=list(found.models), label="tester model",
                               value=[m for m in asked.models if m in found.models])
    return days, workflows, models


def chosen(days: Any, workflows: Any, models: Any) -> Filters:
    """The filters as the widgets hold them now."""
    start, end = days.value if days is not None else (None, None)
    return Filters(start, end, tuple(workflows.value), tuple(models.value))


def page(filters: Filters = EVERYTHING) -> Any:
    """The whole dashboard from the copy as published now, or what went wrong and what to do."""
    try:
        con = _connect()
    except ReadError as exc:
        return mo.callout(mo.md(f"**The warehouse could not be read.** {exc}"), kind="danger")
    try:
        board = build(con, filters)
    finally:
        con.close()
    return render(board)


def render(board: Board) -> Any:
    items: list[Any] = [mo.Html(fragments.header(board) + fragments.kpis(board))]
    for section in board.sections:
        note = f'<p class="meta">{escape(section.note)}</p>' if section.note else ""
        items.append(mo.Html(f"<h2>{escape(section.title)}</h2>{note}"))
        items.append(mo.hstack([_panel(p) for p in section.panels], wrap=True, justify="start",
                               align="start", gap=1.5))
    return mo.Html(f'<div class="armature-board">{mo.vstack(items).text}</div>')


def _panel(panel: Panel) -> Any:
    return mo.Html(fragments.panel_html(panel, lambda chart: mo.as_html(chart).text))
