"""Writes the way users make them, read back through the loader: a CI job dispatches a workflow
and waits for its run, someone renames a topic, edits or archives a workflow; the next load
shows it in the warehouse.

Each test starts from a small world and loads it with the project's dlt source: the full
source where the round trip is the point, otherwise the resources the write shows up in.
Expected values come from the simulator's truth and the API's own answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from armature_sim.server import RunningSim
from tests.support.ci_job import client, dispatch, poll_to_end
from tests.support.warehouse import Warehouse

# seed 6 judges the first dispatched run (the dispatch test checks that it does)
SMALL = {"seed": 6, "runs": 40, "sessions": 40}


@pytest.fixture
def small(sim: RunningSim) -> RunningSim:
    """The simulator rebuilt as a small world."""
    sim.control.reset(**SMALL)
    return sim


@pytest.fixture
def editor(small: RunningSim) -> Any:
    with client(small) as api:
        yield api


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def truth_run(sim: RunningSim, run_id: str) -> dict[str, Any]:
    return next(r for r in sim.control.truth()["runs"] if r["id"] == run_id)


def workflow_with_runs(sim: RunningSim) -> str:
    """A live workflow that has runs in the 30-day window."""
    truth = sim.control.truth()
    return next(r["workflow_id"] for r in truth["runs"] if r["workflow_id"] in truth["workflows"])


def children_loaded(wh: Warehouse, run_id: str) -> dict[str, int]:
    return {
        table: wh.query(f"select count(*) from {table} where run_id = '{run_id}'")[0][0]
        for table in ("trace_spans", "tool_calls", "evaluations", "evaluation_criteria")
    }


def test_a_dispatched_run_polled_to_its_end_loads_with_its_trace_tool_calls_and_evaluation(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    wh.load(small)
    workflow_id = workflow_with_runs(small)
    queued = dispatch(editor, workflow_id, reason="Deploy 4411", idempotencyKey="deploy-4411")
    final, _ = poll_to_end(small, editor, queued["id"])
    wh.load(small)

    expected = truth_run(small, queued["id"])
    assert expected["has_evaluation"], "pick a seed whose dispatched run is judged"
    row = wh.query(f"select status, trigger, reason, workflow_id from runs where id = '{queued['id']}'")
    assert row == [(final["status"], "api", "Deploy 4411", workflow_id)]
    assert children_loaded(wh, queued["id"]) == {
        "trace_spans": expected["spans"],
        "tool_calls": expected["tool_calls"],
        "evaluations": 1,
        "evaluation_criteria": expected["criteria"],
    }


def test_the_same_idempotency_key_sent_twice_loads_one_run(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    workflow_id = workflow_with_runs(small)
    first = dispatch(editor, workflow_id, reason="Nightly 2026-11-28", idempotencyKey="nightly-2026-11-28")
    small.control.advance(minutes=1)
    retry = dispatch(editor, workflow_id, reason="Nightly 2026-11-28", idempotencyKey="nightly-2026-11-28")
    assert retry["id"] == first["id"]
    wh.load(small, ["runs"])  # while the run is open
    poll_to_end(small, editor, first["id"])
    wh.load(small, ["runs"])

    assert small.control.truth()["dispatched_runs"] == [first["id"]]
    assert wh.query("select id from runs where reason = 'Nightly 2026-11-28'") == [(first["id"],)]
    assert wh.count("runs") == len(wh.ids("runs"))


def test_a_renamed_and_flagged_topic_shows_after_the_next_load_while_yesterdays_snapshots_keep_the_old_label(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    truth = small.control.truth()
    topic_id = truth["topics_listed"]["90d"][0]
    old = next(t for t in truth["topics"] if t["id"] == topic_id)
    first_day = small.control.now().date()
    wh.load(small, ["topics"])

    midnight = datetime.combine(first_day + timedelta(days=1), datetime.min.time(), small.control.now().tzinfo)
    small.control.advance(minutes=(midnight - small.control.now()).total_seconds() / 60 + 30)
    second_day = small.control.now().date()
    edited = editor.patch(f"/insights/topics/{topic_id}", json={
        "label": f"{old['label']} (renamed)", "is_unmet_demand": not old["is_unmet_demand"],
    }).json()
    wh.load(small, ["topics"])

    assert wh.query(f"select label, is_unmet_demand from topics where id = '{topic_id}'") == [
        (edited["label"], not old["is_unmet_demand"])]
    snapshots = wh.query(
        f"select snapshot_date, label, is_unmet_demand from topic_snapshots where topic_id = '{topic_id}'")
    by_day = {day: {(label, flag) for d, label, flag in snapshots if d == day} for day in (first_day, second_day)}
    assert by_day == {
        first_day: {(old["label"], old["is_unmet_demand"])},
        second_day: {(edited["label"], not old["is_unmet_demand"])},
    }


def test_a_workflow_patch_shows_its_new_version_after_the_next_load(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    workflow_id = workflow_with_runs(small)
    wh.load(small, ["workflows"])
    small.control.advance(minutes=30)
    patched = editor.patch(f"/workflows/{workflow_id}", json={
        "name": "Search returns this week's issues", "schedule": None,
        "criteria": [{"criterionText": "Cites the issue numbers", "isRequired": True}],
    }).json()
    wh.load(small, ["workflows"])

    record = next(w for w in small.control.truth()["workflow_records"] if w["id"] == workflow_id)
    assert wh.query(
        f"select name, current_version_id, current_version_number from workflows where id = '{workflow_id}'"
    ) == [(patched["name"], record["current_version"]["id"], record["current_version"]["number"])]
    assert record["current_version"]["number"] == patched["current_version"]["number"]


def test_a_source_and_workflow_created_through_the_api_load_with_the_next_run(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    wh.load(small, ["mcp_servers", "workflows"])
    server = editor.post("/mcp-servers", json={"name": "Infra MCP", "baseUrl": "https://infra.example.com"}).json()
    workflow = editor.post("/workflows", json={
        "name": "Infra smoke", "mcpServerId": server["id"], "testerPrompt": "List the clusters.",
    }).json()
    wh.load(small, ["mcp_servers", "workflows"])

    truth = small.control.truth()
    assert wh.ids("mcp_servers") == set(truth["mcp_servers"])
    assert wh.ids("workflows") == set(truth["workflows"])
    assert wh.query(f"select mcp_server_id from workflows where id = '{workflow['id']}'") == [(server["id"],)]


def test_an_archived_workflow_stays_in_workflows_and_its_runs_stay_in_runs(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    workflow_id = workflow_with_runs(small)
    wh.load(small, ["workflows", "runs"])
    assert editor.delete(f"/workflows/{workflow_id}").json() == {"ok": True}
    small.control.advance(minutes=30)
    wh.load(small, ["workflows", "runs"])

    truth = small.control.truth()
    assert workflow_id not in truth["workflows"]
    assert workflow_id in wh.ids("workflows")
    its_runs = {r["id"] for r in truth["runs"] if r["workflow_id"] == workflow_id}
    assert its_runs and its_runs <= wh.ids("runs")


def test_an_archived_workflow_is_marked_archived_in_the_warehouse(
    small: RunningSim, editor: httpx.Client, wh: Warehouse
) -> None:
    workflow_id = workflow_with_runs(small)
    wh.load(small, ["workflows"])
    small.control.advance(minutes=30)
    assert editor.delete(f"/workflows/{workflow_id}").json() == {"ok": True}
    wh.load(small, ["workflows"])

    record = next(w for w in small.control.truth()["workflow_records"] if w["id"] == workflow_id)
    assert record["state"] == "archived"
    assert wh.query(f"select state, archived_at from workflows where id = '{workflow_id}'") == [
        ("archived", when(record["archived_at"]))]
