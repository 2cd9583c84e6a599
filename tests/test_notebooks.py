"""The analyst notebooks run headless, top to bottom, on a loaded warehouse."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from analytics_warehouse import sample_warehouse
from warehouse import Warehouse

__all__ = ["sample_warehouse"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Execute a notebook in a kernel of this very interpreter; raises on any cell error."""
    notebook = nbformat.read(path, as_version=4)
    # No kernel folders: "python3" then resolves to ipykernel's native spec, which starts
    # sys.executable, never a python3 kernel some other install registered.
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    client = NotebookClient(notebook, km=manager, kernel_name="python3", timeout=180,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    return notebook


def test_the_notebooks_are_the_two_promised() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["mcp_insights.ipynb", "workflow_health.ipynb"]


@pytest.mark.parametrize("name", ["workflow_health", "mcp_insights"])
def test_notebook_runs_headless_and_draws_charts_from_the_views(name: str, sample_warehouse: Warehouse) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env["ARMATURE_DUCKDB"] = str(sample_warehouse.db_path)
    notebook = run(NOTEBOOKS / f"{name}.ipynb", env)
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    charts = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(charts) >= 4, f"{name} drew {len(charts)} charts"


def test_notebooks_read_views_only_and_open_the_database_read_only() -> None:
    views = {p.stem for p in (NOTEBOOKS.parent / "analytics" / "views").glob("*.sql")}
    for path in NOTEBOOKS.glob("*.ipynb"):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert "read_only=True" in source
        sql = "\n".join(re.findall(r'view\("""(.*?)"""\)', source, flags=re.DOTALL))
        ctes = set(re.findall(r"\bwith\s+(\w+)\s+as\s*\(", sql))
        read = set(re.findall(r"\b(?:from|join)\s+(\w+)", sql)) - ctes
        assert read and read <= views, f"{path.name} reads {read - views}, which are not views"
