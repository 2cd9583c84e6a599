"""The dashboard as one static HTML file, for mail: every chart inline SVG, no script at all.

marimo's own HTML export loads its frontend from a CDN (every script and style sheet of
`@marimo-team/frontend`), which neither mail readers nor a closed network can reach. Here
vl-convert draws each chart to SVG in-process (Vega runs inside the wheel), so the file
holds its charts, tables and style and needs nothing else: it opens from disk, offline.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import vl_convert

from armature_analytics.dashboard import fragments
from armature_analytics.dashboard.content import Board, Panel


def svg(chart: Any) -> str:
    """A chart drawn as SVG markup, without the XML prolog."""
    drawn: str = vl_convert.vegalite_to_svg(chart.to_dict())
    return drawn.split("?>", 1)[1] if drawn.startswith("<?xml") else drawn


def render(board: Board) -> str:
    """The whole page."""
    parts = [fragments.header(board), fragments.kpis(board)]
    for section in board.sections:
        parts.append(f'<section data-section="{escape(section.title)}"><h2>{escape(section.title)}</h2>')
        if section.note:
            parts.append(f'<p class="meta">{escape(section.note)}</p>')
        parts.append('<div class="grid">')
        parts.extend(_panel(panel) for panel in section.panels)
        parts.append("</div></section>")
    body = "\n".join(parts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Armature dashboard: {escape(board.dataset)}</title>"
        f"<style>{fragments.CSS}</style></head>\n"
        f'<body><main class="armature-board">\n{body}\n</main></body></html>\n'
    )


def _panel(panel: Panel) -> str:
    return fragments.panel_html(panel, svg)


def write(board: Board, path: str | Path) -> Path:
    """Write the page to `path`; returns the absolute path written."""
    target = Path(path).expanduser().resolve()
    target.write_text(render(board), encoding="utf-8")
    return target
