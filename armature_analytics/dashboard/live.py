"""The dashboard inside the marimo app: the newest read copy per refresh, Vega charts as SVG.

Configured through the environment, since marimo starts the app itself: ARMATURE_DUCKDB (here:
the file to open, the warehouse's read copy) and ARMATURE_DATASET, which `armature-pipeline
dashboard` sets from its flags.
"""

from __future__ import annotations

import os
from html import escape
from typing import Any

import marimo as mo

from armature_analytics.dashboard import fragments
from armature_analytics.dashboard.content import Board, Panel, build
from armature_analytics.reader import DEFAULT_DATASET, ReadError, connect

DEFAULT_COPY = "armature_read.duckdb"


def page() -> Any:
    """The whole dashboard from the copy as published now, or what went wrong and what to do."""
    database = os.environ.get("ARMATURE_DUCKDB", DEFAULT_COPY)
    dataset = os.environ.get("ARMATURE_DATASET", DEFAULT_DATASET)
    try:
        con = connect(database, dataset)
    except ReadError as exc:
        return mo.callout(mo.md(f"**The warehouse could not be read.** {exc}"), kind="danger")
    try:
        board = build(con)
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
