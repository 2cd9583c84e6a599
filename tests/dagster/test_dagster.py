"""The Dagster code location, run in-process: two simulator processes with different seeds
stand for two organizations in a temporary `.dlt/`; every expected number comes from their
truth, and each organization's DuckDB file is read back directly."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed")


from armature_analytics.views import load_views  # noqa: E402
from armature_dagster import build_definitions  # noqa: E402
from armature_dagster.assets import POOL  # noqa: E402
from armature_dagster.automation import HOST_TAG  # noqa: E402
from armature_dagster.dbt_assets import model_key  # noqa: E402
from armature_dagster.orgs import ArmatureLoads, current_orgs  # noqa: E402
from armature_dagster.specs import CHECK_FRESH, CHECK_GAPS, CHECK_REJECTED, ORGS, resource_of  # noqa: E402
from armature_pipeline.load.lock import pipeline_lock  # noqa: E402
from armature_pipeline.warehouse.destination import make_pipeline  # noqa: E402
from armature_sim.server import RunningSim  # noqa: E402
from armature_source.tables import ALL_TABLES, BY_NAME  # noqa: E402
from tests.support.dagster_runs import NO_DELAY, configure, materialize, tick  # noqa: E402
from tests.support.expectations import assert_first_load, assert_holds_what_the_host_serves  # noqa: E402
from tests.support.orgs import org_file  # noqa: E402

HEALTH = {"coverage_gaps", "rejected_records", "load_ledger"}


def metadata(result: Any) -> dict[str, dict[str, Any]]:
    """Each materialised table or view's metadata, by name."""
    return {event.asset_key.path[-1]: {k: v.value for k, v in event.materialization.metadata.items()}
            for event in result.get_asset_materialization_events()}


def checks(result: Any) -> dict[str, Any]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def events_of(result: Any, kind: str) -> list[Any]:
    return [e for e in result.all_events if e.event_type_value == kind]


def failure(result: Any) -> Any:
    (failed,) = events_of(result, "STEP_FAILURE")
    return failed.event_specific_data.user_failure_data


def new_rows(first: dict[str, Any], second: dict[str, Any]) -> dict[str, int]:
    """What the second load must write of runs and their children: runs new or changed
    status since the first truth, and the children of runs first seen terminal."""
    before = {r["id"]: r for r in first["runs"]}
    changed = [r for r in second["runs"] if r["id"] not in before or before[r["id"]]["status"] != r["status"]]
    ended = [r for r in changed if r["terminal"]]
    judged = [r for r in ended if r["has_evaluation"]]
    return {"runs": len(changed), "trace_spans": sum(r["spans"] for r in ended),
            "tool_calls": sum(r["tool_calls"] for r in ended), "evaluations": len(judged),
            "evaluation_criteria": sum(r["criteria"] for r in judged)}


def assert_metadata_counts_the_warehouse(meta: dict[str, dict[str, Any]], wh: Any) -> None:
    """Rows in total are the table's rows; rows written are this load's, as the ledger says."""
    tables = {t for t in wh.tables() if not t.startswith("_dlt")}
    assert set(meta) == tables | {v.name for v in load_views()}
    (load_id,) = {m["armature/load_ids"] for m in meta.values()}
    for table in tables:
        assert meta[table]["dagster/row_count"] == wh.count(table), table
        written = wh.query(f"select count(*) from {table} where _dlt_load_id = '{load_id}'")[0][0]
        assert meta[table]["rows_written"] == written, table
    ledger = dict(wh.query(f"select resource, rows_loaded from load_ledger where load_id = '{load_id}'"))
    assert meta["load_ledger"]["rows_written"] == len(ledger) == 8
    for resource, loaded in ledger.items():
        mine = [t.name for t in ALL_TABLES if resource_of(t) == resource and t.name in tables]
        assert sum(meta[t]["rows_written"] for t in mine) == loaded, resource


def test_every_table_and_view_is_an_asset_with_its_description_and_dependencies() -> None:
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    views = {v.name: v for v in load_views()}
    keys = {key.path[-1]: key for key in graph.get_all_asset_keys() if key.path[0] == "armature"}
    assert set(keys) == set(BY_NAME) | set(views)
    for view in views.values():  # the dbt package's model of each view, after the same tables
        model = graph.get(model_key(view.name))
        assert model.parent_keys == {keys[t] for t in view.tables} and model.partitions_def == ORGS
    for table in ALL_TABLES:
        node = graph.get(keys[table.name])
        assert node.description == table.description
        assert node.parent_keys == ({keys[table.parent[0]]} if table.parent else set())
        assert node.partitions_def == ORGS
    for view in views.values():
        node = graph.get(keys[view.name])
        assert node.description == view.question and view.question
        assert node.parent_keys == {keys[t] for t in view.tables}
    load = defs.get_assets_def(keys["runs"])
    assert load.op.pool == POOL
    assert load.op.retry_policy is not None and load.op.retry_policy.max_retries == 3
    assert {c.name for c in load.check_specs} == {CHECK_GAPS, CHECK_REJECTED, CHECK_FRESH}


@pytest.mark.slow
def test_two_organizations_load_exactly_apart_and_then_only_what_is_new(
    orgs: dict[str, RunningSim], project: Path, instance: Any
) -> None:
    globex = orgs["globex"]
    (poisoned,) = globex.control.poison({"kind": "string_number", "record": "run", "nth": 1})
    configure(project, orgs)
    tick(instance)
    assert sorted(instance.get_dynamic_partitions(ORGS.name)) == ["acme", "globex"]
    first = {slug: sim.control.truth() for slug, sim in orgs.items()}
    results = {slug: materialize(instance, slug) for slug in orgs}
    assert all(r.success for r in results.values())

    warehouses = {slug: org_file(project, slug) for slug in orgs}
    for slug, wh in warehouses.items():
        assert_first_load(wh, first[slug])
        meta = metadata(results[slug])
        assert_metadata_counts_the_warehouse(meta, wh)
        assert meta["runs"]["rows_written"] == meta["runs"]["dagster/row_count"] == len(first[slug]["runs"])
        assert {e.partition for e in results[slug].get_asset_check_evaluations()} == {slug}
        assert checks(results[slug])[CHECK_FRESH].passed
        assert (project / "dlt" / "pipelines" / f"armature_{slug}").is_dir()
    assert not warehouses["acme"].ids("runs") & warehouses["globex"].ids("runs")

    # acme holds more sessions than one list serves: one gap, the count the truth says
    cut = first["acme"]["sessions_total"]["90d"] - first["acme"]["session_list_limit"]
    assert cut > 0 and first["globex"]["sessions_total"]["90d"] <= first["globex"]["session_list_limit"]
    gaps = checks(results["acme"])[CHECK_GAPS]
    assert (gaps.passed, gaps.severity, gaps.metadata["new_gaps"].value) == (False, dg.AssetCheckSeverity.WARN, 1)
    assert warehouses["acme"].query("select kind, missing_count from coverage_gaps") == [("limit_cut", cut)]
    assert checks(results["globex"])[CHECK_GAPS].passed
    # globex serves one poisoned run: one rejected record, a warning; acme none
    rejected = checks(results["globex"])[CHECK_REJECTED]
    assert (rejected.passed, rejected.severity, rejected.metadata["new_rejected"].value) == (
        False, dg.AssetCheckSeverity.WARN, 1)
    assert warehouses["globex"].query("select table_name, record_key from rejected_records") == [
        ("runs", f'{{"id": "{poisoned["id"]}"}}')]
    assert checks(results["acme"])[CHECK_REJECTED].passed

    for sim in orgs.values():
        moved = sim.control.advance(minutes=720)
        assert moved["new_runs"] > 0 and moved["ended_runs"] > 0
    again = {slug: materialize(instance, slug) for slug in orgs}
    for slug, wh in warehouses.items():
        assert again[slug].success
        second = orgs[slug].control.truth()
        assert_holds_what_the_host_serves(wh, second)
        meta = metadata(again[slug])
        assert_metadata_counts_the_warehouse(meta, wh)
        expected = new_rows(first[slug], second)
        assert expected["runs"] > 0 and expected["trace_spans"] > 0
        for table, written in expected.items():
            assert meta[table]["rows_written"] == written, (slug, table)
        assert wh.count("load_ledger") == 16
        assert checks(again[slug])[CHECK_GAPS].passed and checks(again[slug])[CHECK_FRESH].passed
    assert checks(again["acme"])[CHECK_REJECTED].passed
    # the poisoned run is served again only if it changed since (still poisoned): rejected again
    status = {when: {r["id"]: r["status"] for r in truth["runs"]}[poisoned["id"]]
              for when, truth in (("first", first["globex"]), ("second", globex.control.truth()))}
    again_rejected = int(status["first"] != status["second"])
    verdict = checks(again["globex"])[CHECK_REJECTED]
    assert (verdict.passed, verdict.metadata["new_rejected"].value) == (not again_rejected, again_rejected)
    assert warehouses["globex"].count("rejected_records") == 1  # merged on table, key and reason


def test_a_rejected_key_fails_its_partition_with_our_message_and_is_not_retried(
    orgs: dict[str, RunningSim], project: Path, instance: Any
) -> None:
    sims = {"broken": orgs["acme"], "globex": orgs["globex"]}
    configure(project, sims, keys={"broken": "amt_revoked_key"})
    tick(instance)
    broken = materialize(instance, "broken")
    assert not broken.success
    why = failure(broken)
    assert why.description.startswith("organization broken: 401 from GET /org: the API key was rejected")
    assert why.metadata["exit_code"].value == 2 and "amt_revoked_key" not in why.description
    assert not events_of(broken, "STEP_UP_FOR_RETRY")
    assert not [e for e in broken.all_events if "amt_revoked_key" in (e.message or "")]
    fresh = checks(broken)[CHECK_FRESH]
    assert not fresh.passed and fresh.partition == "broken"
    assert not (project / "armature_broken.duckdb").exists()

    loaded = materialize(instance, "globex")
    assert loaded.success
    truth = orgs["globex"].control.truth()
    globex = org_file(project, "globex")
    assert globex.ids("runs") == {r["id"] for r in truth["runs"]}
    assert metadata(loaded)["runs"]["dagster/row_count"] == len(truth["runs"])

    # once its key is revoked too, its last finished load is what freshness is judged by
    configure(project, sims, keys={"broken": "amt_revoked_key", "globex": "amt_revoked_key"})
    stale = materialize(instance, "globex", ArmatureLoads(stale_after_minutes=0))
    assert not stale.success and failure(stale).metadata["exit_code"].value == 2
    fresh = checks(stale)[CHECK_FRESH]
    (finished,) = globex.query("select max(inserted_at) from _dlt_loads where status = 0")[0]
    assert not fresh.passed
    assert fresh.metadata["last_successful_load_at"].value == finished.isoformat()


def test_a_locked_pipeline_is_retried_then_fails_saying_which_run_holds_it(
    orgs: dict[str, RunningSim], project: Path, instance: Any
) -> None:
    configure(project, {"acme": orgs["acme"]})
    tick(instance)
    pipeline = make_pipeline(current_orgs()["acme"].settings())
    with pipeline_lock(pipeline):
        result = materialize(instance, "acme")
    assert not result.success
    assert len(events_of(result, "STEP_UP_FOR_RETRY")) == NO_DELAY.max_retries
    why = failure(result)
    assert "another run of pipeline 'armature_acme' is in progress" in why.description
    assert why.metadata["exit_code"].value == 3
    assert not (project / "armature_acme.duckdb").exists()


def test_a_warehouse_held_by_another_process_fails_the_load_with_retries_and_no_verdict(
    orgs: dict[str, RunningSim], project: Path, instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(project, {"acme": orgs["acme"]})
    tick(instance)
    monkeypatch.setenv("ARMATURE_DUCKDB_WAIT_S", "0")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "sys.stdin.read()", str(project / "armature_acme.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = materialize(instance, "acme")
    finally:
        holder.communicate("", timeout=30)
    assert not result.success
    assert len(events_of(result, "STEP_UP_FOR_RETRY")) == NO_DELAY.max_retries
    why = failure(result)
    assert "is open in another process" in why.description and why.metadata["exit_code"].value == 1
    assert CHECK_FRESH not in checks(result)  # the file could not be read: no verdict either way


def test_the_sensor_follows_the_config_without_a_deploy(
    orgs: dict[str, RunningSim], project: Path, instance: Any
) -> None:
    configure(project, orgs)
    tick(instance)
    assert sorted(instance.get_dynamic_partitions(ORGS.name)) == ["acme", "globex"]
    assert isinstance(tick(instance), dg.SkipReason)  # unchanged
    configure(project, {**orgs, "initech": orgs["acme"]})
    tick(instance)
    assert sorted(instance.get_dynamic_partitions(ORGS.name)) == ["acme", "globex", "initech"]
    configure(project, {"initech": orgs["acme"]})
    tick(instance)
    assert instance.get_dynamic_partitions(ORGS.name) == ["initech"]
    (project / ".dlt" / "config.toml").write_text("")
    assert isinstance(tick(instance), dg.SkipReason)  # none configured: nothing is deleted
    assert instance.get_dynamic_partitions(ORGS.name) == ["initech"]


def test_the_schedule_asks_every_15_minutes_for_one_run_per_organization_tagged_with_its_host(
    orgs: dict[str, RunningSim], project: Path, local_instance: Any
) -> None:
    instance = local_instance
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("armature_every_15_minutes")
    assert schedule.cron_schedule == "*/15 * * * *"
    configure(project, orgs)

    def evaluate(when: datetime) -> Any:
        return schedule.evaluate_tick(dg.build_schedule_context(
            instance, when, repository_def=defs.get_repository_def()))

    at = datetime(2026, 12, 1, 9, 15, tzinfo=timezone.utc)
    assert evaluate(at).skip_message  # no partition yet
    tick(instance)
    runs = {when: evaluate(when).run_requests for when in (at, at + timedelta(minutes=15))}
    for requests in runs.values():
        assert sorted(r.partition_key for r in requests) == ["acme", "globex"]
        assert {r.tags[HOST_TAG] for r in requests} == {"127.0.0.1"}
    assert len({r.run_key for requests in runs.values() for r in requests}) == 4
