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
def _(mo):
    refresh = mo.ui.button(label="Take a fresh snapshot", value=0, on_click=lambda n: n + 1)
    return (refresh,)


@app.cell
def _(live, mo, refresh):
    _ = refresh.value  # clicking the button runs this cell again: a new snapshot of the file
    mo.vstack([refresh, live.page()])
    return


if __name__ == "__main__":
    app.run()
