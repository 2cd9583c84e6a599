"""The dbt package on the real (throwaway) Postgres: `dbt build` passes, each model equals its view."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import dlt
import pytest

from armature_analytics.dictionary import SAMPLE_WORLD, load_sample
from armature_pipeline.transform.runner import run_command
from armature_sim.server import RunningSim
from tests.support.dbt import assert_models_equal_views
from tests.support.warehouse import DATASET, Warehouse


@pytest.mark.postgres
def test_dbt_build_on_postgres_passes_and_every_model_returns_the_rows_of_its_view(
    dbt_python: Path, sim_server: RunningSim, postgres_url: str, tmp_path: Path
) -> None:
    pipeline = Warehouse(tmp_path).pipeline(dlt.destinations.postgres(postgres_url))
    sim_server.control.reset(**SAMPLE_WORLD)
    try:
        load_sample(pipeline, sim_server)
    finally:
        sim_server.control.reset()
    started = time.monotonic()
    outcome = run_command(pipeline, ["build"])
    print(f"dbt build on Postgres: {time.monotonic() - started:.1f} s")
    assert outcome.ok, (outcome.errors, outcome.failed_tests)
    assert sum(status == "pass" for status in outcome.statuses.values()) >= 90

    def query(sql: str) -> list[tuple[Any, ...]]:
        with pipeline.sql_client() as client:
            return [tuple(row) for row in client.execute_sql(sql) or []]

    assert_models_equal_views(query, DATASET, f"{DATASET}_dbt")
