"""The dbt package on DuckDB: `dbt build` on the sample warehouse, each model equal to its view;
compiled for BigQuery and Snowflake; and `run --dbt` telling a failing test without losing the load."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import sqlglot

from armature_analytics.views import load_views
from armature_pipeline.transform.runner import DbtOutcome
from armature_sim.server import RunningSim
from armature_source.tables import ALL_TABLES
from tests.support.dbt import assert_models_equal_views, compile_offline, offline_profiles
from tests.support.warehouse import DATASET, Warehouse

MODELS = f"{DATASET}_dbt"


def test_dbt_build_on_duckdb_passes_every_test_and_builds_every_model(dbt_built: tuple[Warehouse, DbtOutcome]) -> None:
    warehouse, outcome = dbt_built
    assert outcome.ok, (outcome.errors, outcome.failed_tests)
    assert {view.name for view in load_views()} <= {n for n, s in outcome.statuses.items() if s == "success"}
    tests = [n for n, s in outcome.statuses.items() if s == "pass"]
    assert all(n in outcome.statuses for n in (f"source_unique_armature_{t.name}_{t.key[0]}"
                                               for t in ALL_TABLES if len(t.key) == 1))
    assert any(n.startswith("source_accepted_values_armature_runs_status") for n in tests)
    assert any(n.startswith("source_relationships_armature_tool_calls_run_id") for n in tests)
    assert any(n.startswith("armature_unique_key_armature_tool_calls") or "unique_key" in n for n in tests)


def test_every_model_on_duckdb_returns_exactly_the_rows_of_its_view(dbt_built: tuple[Warehouse, DbtOutcome]) -> None:
    warehouse, _ = dbt_built
    assert_models_equal_views(warehouse.query, DATASET, MODELS)


@pytest.mark.parametrize("adapter", ["bigquery", "snowflake"])
def test_the_package_compiles_for_bigquery_and_snowflake_into_sql_of_that_dialect(
    adapter: str, dbt_python: Path, tmp_path: Path
) -> None:
    profiles = offline_profiles(dbt_python, tmp_path / "profiles")
    compiled = compile_offline(dbt_python, profiles, adapter, tmp_path)
    assert set(compiled) == {view.name for view in load_views()}
    for name, sql in compiled.items():
        tree = sqlglot.parse_one(sql, read=adapter)  # raises on SQL the dialect cannot read
        assert tree.find(sqlglot.exp.Filter) is None, f"{name}: {adapter} knows no FILTER clause"
    # the adapters' own spellings, from dbt's macros and the package's
    joined = "\n".join(compiled.values())
    if adapter == "bigquery":
        assert "logical_or(" in joined and "`range`" in joined and "json_value(" in joined
    else:
        assert "boolor_agg(" in joined and "within group" in joined and "convert_timezone(" in joined


def test_run_with_dbt_warns_of_a_failing_test_and_keeps_the_load(dbt_python: Path, sim: RunningSim,
                                                                  tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    source = ("--base-url", sim.api_url, "--api-key", sim.api_key, "--log-format", "json")
    first = warehouse.cli("run", *source)
    assert first.returncode == 0, first.stderr[-3000:]
    with duckdb.connect(str(warehouse.db_path)) as con:  # a status no run may have
        con.execute(f"update {DATASET}.runs set status = 'misfiled' where id = (select min(id) from {DATASET}.runs)")
    sim.control.advance(minutes=30)
    ran = warehouse.cli("run", "--dbt", *source, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    lines = [json.loads(line) for line in (ran.stderr + ran.stdout).splitlines() if line.startswith("{")]
    warned = [line for line in lines if line.get("dbt_test")]
    assert [line["level"] for line in warned] == ["WARNING"], warned
    assert "accepted_values_armature_runs_status" in warned[0]["dbt_test"]
    summary = next(line for line in lines if "dbt_failed_tests" in line)
    assert "1 test FAILED" in summary["message"] and summary["dbt_errors"] == []
    assert len({r[0] for r in warehouse.query("select load_id from load_ledger")}) == 2  # the load is kept
    # the models were built all the same, beside the dataset
    assert warehouse.query(f"select count(*) from {MODELS}.workflow_pass_rate_daily")[0][0] > 0
    tested = warehouse.cli("dbt", "--pipeline-name", warehouse.name, "--pipelines-dir",
                           str(warehouse.pipelines_dir), "test", "--select", "source:armature.runs")
    assert tested.returncode == 1, tested.stderr[-3000:]
    assert "dbt test failed: source_accepted_values_armature_runs_status" in tested.stderr
