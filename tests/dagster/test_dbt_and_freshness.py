"""The Dagster code location beyond the load: the dbt package's models as assets with their
checks, and freshness answered by a sensor with no load running. Every expected number comes
from the simulators' truth or from the warehouse read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed")

from armature_analytics.views import load_views  # noqa: E402
from armature_dagster import build_definitions  # noqa: E402
from armature_dagster.dbt_assets import CHECK_DBT, build_dbt_assets, model_key  # noqa: E402
from armature_dagster.freshness import freshness  # noqa: E402
from armature_dagster.orgs import ArmatureLoads, current_orgs  # noqa: E402
from armature_dagster.specs import CHECK_FRESH  # noqa: E402
from armature_pipeline.warehouse.destination import make_pipeline  # noqa: E402
from armature_sim.server import RunningSim  # noqa: E402
from tests.support.dagster_runs import configure, materialize, tick  # noqa: E402
from tests.support.orgs import org_file  # noqa: E402


def test_the_dbt_models_materialise_after_a_load_and_a_failing_test_warns_on_the_models_reading_it(
    orgs: dict[str, RunningSim], project: Path, instance: Any, dbt_python: Path
) -> None:
    configure(project, {"acme": orgs["acme"]})
    tick(instance)
    assert materialize(instance, "acme").success
    warehouse = org_file(project, "acme")
    with duckdb.connect(str(warehouse.db_path)) as con:  # a status no run may have
        con.execute("update armature_data.runs set status = 'misfiled' "
                    "where id = (select min(id) from armature_data.runs)")
    result = dg.materialize([build_dbt_assets()], instance=instance, partition_key="acme",
                            resources={"armature": ArmatureLoads()}, raise_on_error=False)
    assert result.success
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    assert built == {model_key(view.name) for view in load_views()}
    verdicts = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_DBT}
    reading_runs = {view.name for view in load_views() if "runs" in view.tables}
    assert {name for name, e in verdicts.items() if not e.passed} == reading_runs
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in verdicts.values())
    failed = verdicts["flaky_workflows"].metadata["failed_tests"].value
    assert len(failed) == 1 and "accepted_values_armature_runs_status" in failed[0]
    assert warehouse.query("select count(*) from armature_data_dbt.unmet_demand")[0][0] > 0


def test_freshness_is_answered_by_a_sensor_from_the_warehouses_with_no_load_running(
    orgs: dict[str, RunningSim], project: Path, instance: Any
) -> None:
    configure(project, orgs)
    tick(instance)
    assert materialize(instance, "acme").success  # globex never loaded

    def sensor(stale_after_minutes: float) -> dict[str, Any]:
        loads = ArmatureLoads(stale_after_minutes=stale_after_minutes)
        result = freshness(dg.build_sensor_context(instance=instance, resources={"armature": loads}))
        return {e.partition: e for e in result.asset_events}

    verdicts = sensor(60)
    assert set(verdicts) == {"acme", "globex"}
    assert {e.check_name for e in verdicts.values()} == {CHECK_FRESH}
    assert verdicts["acme"].passed and verdicts["acme"].metadata["age_minutes"].value < 5
    with make_pipeline(ArmatureLoads().settings(current_orgs()["acme"])).sql_client() as client:
        (stamp,) = client.execute_sql("select max(inserted_at) from _dlt_loads where status = 0")[0]
    assert verdicts["acme"].metadata["last_successful_load_at"].value == stamp.isoformat()
    assert not verdicts["globex"].passed and "no load" in str(verdicts["globex"].description)
    stale = sensor(0.001)  # the same warehouse, judged a minute's fraction later
    assert not stale["acme"].passed and "minute(s) ago" in str(stale["acme"].description)
    assert isinstance(freshness(dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"armature": ArmatureLoads()})), dg.SkipReason)
    assert "armature_freshness" in {s.name for s in build_definitions().sensors}
