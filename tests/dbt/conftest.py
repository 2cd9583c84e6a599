"""The dbt package's fixtures: the sample warehouse with the package built (dbt's environment,
`dbt_python`, is tests/conftest.py's: the docs test runs dbt too)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from armature_pipeline.transform.runner import DbtOutcome, run_command
from tests.support.warehouse import Warehouse


@pytest.fixture(scope="session")
def dbt_built(dbt_python: Path, sample_warehouse: Warehouse,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, DbtOutcome]]:
    """A copy of the sample warehouse with `dbt build` run on it by the command's own runner."""
    root = tmp_path_factory.mktemp("dbt-duckdb")
    shutil.copy(sample_warehouse.db_path, root / sample_warehouse.file)
    warehouse = Warehouse(root)
    outcome = run_command(warehouse.pipeline(), ["build"])
    yield warehouse, outcome
