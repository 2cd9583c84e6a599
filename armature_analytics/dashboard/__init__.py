"""The reporting dashboard: `armature-pipeline dashboard`.

    content.py    what it shows, built from a snapshot (headline numbers, panels, load health)
    panels.py     each panel's query over the reporting views
    filters.py    days, workflows and models, narrowing what every panel reads
    charts.py     each panel's chart (altair / Vega-Lite)
    fragments.py  the HTML both renderings share: header, numbers, tables, style
    live.py       the rendering inside the marimo app (app.py), served by server.py
    export.py     the rendering as one static HTML file, charts as inline SVG

Both renderings read the warehouse's read copy (`analytics.reader.connect`), never the file a load
the copy, never while a page is shown.
"""
