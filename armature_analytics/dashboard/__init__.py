"""The reporting dashboard: `armature-pipeline dashboard`.

    content.py    what it shows, built from a snapshot (headline numbers, panels, load health)
    panels.py     each panel's query over the reporting views
    charts.py     each panel's chart (altair / Vega-Lite)
    fragments.py  the HTML both renderings share: header, numbers, tables, style
    live.py       the rendering inside the marimo app (app.py), served by server.py
    export.py     the rendering as one static HTML file, charts as inline SVG

Both renderings read through `analytics.reader.snapshot`, so the DuckDB file is open only for
the copy, never while a page is shown.
"""
