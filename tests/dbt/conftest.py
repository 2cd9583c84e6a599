"""The dbt package's fixtures: dbt's environment, made once (it outlives the session, in the
user's cache folder, like the command's), and the sample warehouse with the package built."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from armature_pipeline.transform.runner import DbtOutcome, run_command
from armature_pipeline.transform.venv import ensure, venv_dir
from tests.support.warehouse import Warehouse

# the adapters the tests run (duckdb, postgres) or compile the package with (bigquery, snowflake)
ADAPTERS = ("duckdb", "postgres", "bigquery", "snowflake")


@pytest.fixture(scope="session")
def dbt_python() -> Path:
    """The Python of dbt's environment, with every adapter the tests use (made on first use)."""
    started = time.monotonic()
    ensure(ADAPTERS)
    print(f"dbt environment ready in {time.monotonic() - started:.0f} s")
    return venv_dir() / "bin" / "python"


@pytest.fixture(scope="session")
def dbt_built(dbt_python: Path, sample_warehouse: Warehouse,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, DbtOutcome]]:
    """A copy of the sample warehouse with `dbt build` run on it by the command's own runner."""
    root = tmp_path_factory.mktemp("dbt-duckdb")
    shutil.copy(sample_warehouse.db_path, root / sample_warehouse.file)
    warehouse = Warehouse(root)
    outcome = run_command(warehouse.pipeline(), ["build"])
    yield warehouse, outcome
