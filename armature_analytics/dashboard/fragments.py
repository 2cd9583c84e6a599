"""The HTML pieces both renderings share: header, headline numbers, tables, empty notes, style.

Plain HTML and CSS with system fonts: nothing here loads anything from anywhere.
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable

import pandas as pd

from armature_analytics.dashboard.content import Board, Panel, title_of
from armature_analytics.dashboard.filters import describe
from armature_analytics.health import describe_timestamp

CSS = """
.armature-board { font-family: Helvetica, Arial, sans-serif; color: #1f2328; }
.armature-board h1 { font-size: 22px; margin: 0 0 4px; }
.armature-board h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
.armature-board h3 { font-size: 14px; margin: 12px 0 6px; }
.armature-board .meta { color: #57606a; font-size: 13px; margin: 0 0 12px; }
.armature-board .kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.armature-board .kpi { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.armature-board .kpi .value { display: block; font-size: 20px; font-weight: bold; }
.armature-board .kpi .label { display: block; font-size: 12px; color: #57606a; }
.armature-board .grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.armature-board figure { margin: 0; }
.armature-board .empty { color: #57606a; font-style: italic; font-size: 13px; }
.armature-board table { border-collapse: collapse; font-size: 12px; margin: 4px 0 12px; }
.armature-board th, .armature-board td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left;
  vertical-align: top; max-width: 420px; overflow-wrap: anywhere; }
.armature-board th { background: #f6f8fa; }
"""


def header(board: Board) -> str:
    taken = describe_timestamp(board.taken_at)
    return (
        "<h1>Armature dashboard</h1>"
        f'<p class="meta">Dataset <b>{escape(board.dataset)}</b> in {escape(board.source)}; '
        f"copy published {escape(taken)}; last successful load "
        f'<span data-freshness>{escape(board.freshness.describe())}</span>.</p>'
        + (f'<p class="meta" data-filters>{escape(describe(board.filters))}</p>' if board.filters else "")
    )


def kpis(board: Board) -> str:
    tiles = "".join(
        f'<div class="kpi" data-kpi="{escape(k.id)}"><span class="value">{escape(k.value)}</span>'
        f'<span class="label">{escape(k.label)}</span></div>'
        for k in board.kpis
    )
    return f'<div class="kpis">{tiles}</div>'


def empty(panel: Panel) -> str:
    return (f'<div data-panel="{escape(panel.id)}"><h3>{escape(title_of(panel))}</h3>'
            f'<p class="empty">{escape(panel.empty or "")}</p></div>')


def table(panel: Panel) -> str:
    frame = panel.table if panel.table is not None else pd.DataFrame()
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(c, v))}</td>" for c, v in zip(frame.columns, row, strict=True))
        + "</tr>" for row in frame.itertuples(index=False)
    )
    return (f'<div data-panel="{escape(panel.id)}"><h3>{escape(title_of(panel))}</h3>'
            f'<table data-table="{escape(panel.id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _cell(column: object, value: object) -> str:
    """A table cell as text: empty for a missing value (never `NaT` or `nan`), a load id as
    dlt writes it, a count without `.0`, a timestamp as `2026-12-01 13:02 UTC`."""
    try:
        if value is None or bool(pd.isna(value)):
            return ""
    except (TypeError, ValueError):  # a list or an array: never missing as a whole
        pass
    if str(column).endswith("load_id"):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return describe_timestamp(value)


def panel_html(panel: Panel, draw: Callable[[Any], str]) -> str:
    """A panel as HTML: its chart (drawn by `draw`, SVG or marimo's), its table, or why empty."""
    drawn = ""
    if panel.chart is not None:
        drawn = f'<figure data-chart="{escape(panel.id)}">{draw(panel.chart)}</figure>'
    if panel.table is not None:
        drawn += table(panel)
    return drawn or empty(panel)
