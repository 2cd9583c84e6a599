"""The analyst notebooks run headless the usual way, read views from the read copy, and leave
the warehouse free for the next load while they are open."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from armature_analytics.health import span_note  # noqa: E402
from armature_analytics.plotting import series_over_days  # noqa: E402
from tests.support.warehouse import DATASET, REPO, Warehouse  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
NAMES = ["workflow_health", "mcp_insights"]
WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table {dataset}.written_beside_a_notebook as select 1 as one")
con.execute("drop table {dataset}.written_beside_a_notebook")
con.close()
"""


def analyst_env(warehouse: Warehouse) -> dict[str, str]:
    """An activated virtualenv, as an analyst has it, pointed at the warehouse."""
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["ARMATURE_DUCKDB"] = str(warehouse.db_path)
    env["ARMATURE_DATASET"] = DATASET
    return env


def code_of(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_the_notebooks_are_the_two_promised() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["mcp_insights.ipynb", "workflow_health.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_headless_with_nbconvert_and_draws_charts_from_the_views(
    name: str, sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    jupyter = Path(sys.executable).parent / "jupyter"
    done = subprocess.run(
        [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(tmp_path),
         str(NOTEBOOKS / f"{name}.ipynb")],
        env=analyst_env(sample_warehouse), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    charts = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(charts) >= 4, f"{name} drew {len(charts)} charts"
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert f"{sample_warehouse.read_copy().db_path} ({DATASET}): last successful load" in printed


@pytest.mark.parametrize("name", NAMES)
def test_a_load_can_write_while_the_notebook_is_open(name: str, sample_warehouse: Warehouse) -> None:
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    # No kernel folders: "python3" then resolves to ipykernel's native spec, which starts
    # sys.executable, never a python3 kernel some other install registered.
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    client = NotebookClient(notebook, km=manager, kernel_name="python3", timeout=180,
                            resources={"metadata": {"path": str(path.parent)}})
    env = analyst_env(sample_warehouse)
    with client.setup_kernel(env=env):
        # every cell but the last, which closes the snapshot: the notebook as an analyst leaves it
        for index, cell in enumerate(notebook.cells[:-1]):
            client.execute_cell(cell, index)
        writer = subprocess.run(
            [sys.executable, "-c", WRITE.format(dataset=DATASET), str(sample_warehouse.db_path)],
            capture_output=True, text=True, timeout=60,
        )
    assert writer.returncode == 0, f"a load could not write beside the open notebook: {writer.stderr}"


def test_notebooks_read_views_only_from_the_read_copy() -> None:
    views = {p.stem for p in (NOTEBOOKS.parent / "armature_analytics" / "views").glob("*.sql")}
    for path in NOTEBOOKS.glob("*.ipynb"):
        source = code_of(path)
        # the read copy of the warehouse named, never the warehouse a load writes
        assert "from armature_analytics.reader import connect" in source
        assert re.search(r"^DATABASE = for_reading\(WAREHOUSE\)$", source, flags=re.MULTILINE)
        assert re.search(r"^con = connect\(DATABASE, DATASET\)$", source, flags=re.MULTILINE)
        assert "duckdb.connect" not in source and "import duckdb" not in source
        sql = "\n".join(re.findall(r'view\("""(.*?)"""\)', source, flags=re.DOTALL))
        ctes = set(re.findall(r"\bwith\s+(\w+)\s+as\s*\(", sql))
        read = set(re.findall(r"\b(?:from|join)\s+(\w+)", sql)) - ctes
        assert read and read <= views, f"{path.name} reads {read - views}, which are not views"


def test_one_snapshot_day_draws_bars_not_dots_on_a_years_wide_axis() -> None:
    one_day = pd.DataFrame({"day": [date(2026, 11, 28)] * 3, "label": ["a", "b", "c"], "n": [5, 9, 2]})
    fig, ax = plt.subplots()
    assert series_over_days(ax, one_day, day="day", series="label", value="n", title="t", unit="u") == "bars"
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sorted(b.get_width() for b in bars) == [2, 5, 9]
    assert "snapshot of 28 Nov 2026" in ax.get_title()
    plt.close(fig)


def test_several_snapshot_days_draw_lines_on_an_axis_of_those_days() -> None:
    days = [date(2026, 11, 28), date(2026, 11, 29)]
    frame = pd.DataFrame({"day": days * 2, "label": ["a", "a", "b", "b"], "n": [5, 6, 2, 3]})
    fig, ax = plt.subplots()
    assert series_over_days(ax, frame, day="day", series="label", value="n", title="t", unit="u") == "lines"
    assert len([line for line in ax.get_lines() if isinstance(line, Line2D)]) == 2
    low, high = ax.get_xlim()
    assert 1 < high - low < 3, "the axis spans the two days shown, not years"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any(re.fullmatch(r"20\d\d", t) for t in labels), labels
    assert ax.get_legend() is not None and ax.get_legend().get_bbox_to_anchor().x0 > ax.bbox.x1 - 1
    plt.close(fig)


def test_the_sessions_note_gives_the_span_loaded_and_points_to_coverage_gaps(
    sample_warehouse: Warehouse,
) -> None:
    first, last, days = sample_warehouse.query(
        "select min(session_date), max(session_date), count(*) from session_outcomes_daily")[0]
    gaps = sample_warehouse.count("coverage_gaps")
    dates = [row[0] for row in sample_warehouse.query("select session_date from session_outcomes_daily")]
    note = span_note(dates, gaps)
    length = (last - first).days + 1
    assert f"covers {first:%d %b} - {last:%d %b %Y} ({length} days)" in note
    assert "at most 100 sessions per window" in note and f"coverage_gaps has {gaps} record" in note
    assert days <= length
    assert span_note(dates, None).endswith("no coverage_gaps table yet")
