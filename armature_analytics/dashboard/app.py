"""The marimo app `armature-pipeline dashboard` serves; the work is in live.py."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Armature dashboard")


@app.cell
def _():
    import marimo as mo

    from armature_analytics.dashboard import live

    return live, mo


@app.cell
def _(live, mo):
    refresh = mo.ui.button(label="Take a fresh snapshot", value=0, on_click=lambda n: n + 1)
    widgets = live.controls(mo.query_params().to_dict())
    days, workflows, models = widgets if widgets is not None else (None, None, None)
    return days, models, refresh, workflows


@app.cell
def _(days, live, mo, models, refresh, workflows):
    _ = refresh.value  # clicking the button runs this cell again: a new snapshot of the file
    _page = live.page(live.chosen(days, workflows, models)) if workflows is not None else live.page()
    _bar = [w for w in (refresh, days, workflows, models) if w is not None]
    mo.vstack([mo.hstack(_bar, justify="start", align="end", gap=1.5), _page])
    return


if __name__ == "__main__":
    app.run()
