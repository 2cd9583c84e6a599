"""The simulator's write API: dispatched runs, topic edits, the alt dialect and determinism.

Every test starts from a small world. Expected ids and counts come from `/_sim/truth` and
from the API's own answers, never from numbers typed in here.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from armature_sim.server import RunningSim
from tests.support.ci_job import dispatch, poll_to_end
from tests.support.sim_writes import SMALL, create_workflow, truth_run, when

# ---- dispatch ----


def test_a_dispatch_is_202_with_a_pending_api_run_that_ends_on_the_clock_like_any_other(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client, ids: dict[str, str]
) -> None:
    workflow = viewer.get(f"/workflows/{ids['workflow']}").json()
    response = editor.post(f"/workflows/{workflow['id']}/runs", json={"reason": "  Deploy   4411 \n"})
    assert response.status_code == 202
    assert set(response.json()) == {"run"}
    run = response.json()["run"]
    assert run["status"] == "pending" and run["trigger"] == "api" and run["reason"] == "Deploy 4411"
    assert run["workflow_id"] == workflow["id"] and run["workflow_version_id"] == workflow["current_version"]["id"]
    assert run["model"] == workflow["tester_model_ids"][0]
    assert when(run["started_at"]) == small.control.now()
    assert run["ended_at"] is None and run["baseline_run_id"] is None
    assert viewer.get(f"/runs/{run['id']}").json()["status"] == "pending"
    assert viewer.get("/runs", params={"workflowId": workflow["id"]}).json()["rows"][0] == run
    truth = small.control.truth()
    assert truth["dispatched_runs"] == [run["id"]] and run["id"] in truth["open_runs"]

    final, polls = poll_to_end(small, viewer, run["id"])
    assert polls > 1
    expected = truth_run(small, run["id"])
    assert final["status"] == expected["status"] and final["ended_at"] is not None
    assert len(viewer.get(f"/runs/{run['id']}/trace").json()["spans"]) == expected["spans"]
    assert len(viewer.get(f"/runs/{run['id']}/tool-calls").json()["rows"]) == expected["tool_calls"]
    evaluation = viewer.get(f"/runs/{run['id']}/evaluation")
    if expected["has_evaluation"]:
        assert len(evaluation.json()["criteria"]) == expected["criteria"]
        assert final["evaluator_output"]["verdict"] == evaluation.json()["verdict"] == final["status"]
    else:
        assert evaluation.json()["error"]["code"] == "evaluation_not_available"


def test_the_same_idempotency_key_returns_the_same_run_until_it_is_terminal(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client, ids: dict[str, str]
) -> None:
    workflow_id = ids["workflow"]
    first = dispatch(editor, workflow_id, idempotencyKey="deploy-4411", reason="Deploy 4411")
    assert first["id"] == str(uuid.uuid5(uuid.UUID(workflow_id), "deploy-4411"))
    small.control.advance(minutes=0.5)
    again = dispatch(editor, workflow_id, idempotencyKey="deploy-4411", reason="Retry of the same deploy")
    assert again["id"] == first["id"] and again["reason"] == "Deploy 4411"
    assert small.control.truth()["dispatched_runs"] == [first["id"]]

    poll_to_end(small, viewer, first["id"])
    after_end = dispatch(editor, workflow_id, idempotencyKey="deploy-4411")
    assert after_end["id"] == str(uuid.uuid5(uuid.UUID(workflow_id), "deploy-4411#2"))
    assert after_end["status"] == "pending"
    other_key = dispatch(editor, workflow_id, idempotencyKey="deploy-4412")
    no_key = dispatch(editor, workflow_id)
    assert small.control.truth()["dispatched_runs"] == [first["id"], after_end["id"], other_key["id"], no_key["id"]]
    assert len({first["id"], after_end["id"], other_key["id"], no_key["id"]}) == 4


def test_force_new_run_starts_a_second_run_while_the_keys_run_is_open(
    small: RunningSim, editor: httpx.Client, ids: dict[str, str]
) -> None:
    first = dispatch(editor, ids["workflow"], idempotencyKey="nightly")
    forced = dispatch(editor, ids["workflow"], idempotencyKey="nightly", forceNewRun=True)
    assert forced["id"] != first["id"]
    assert dispatch(editor, ids["workflow"], idempotencyKey="nightly")["id"] == forced["id"]
    truth = small.control.truth()
    assert truth["dispatched_runs"] == [first["id"], forced["id"]]
    assert {first["id"], forced["id"]} <= set(truth["open_runs"])


def test_an_idempotency_key_belongs_to_one_workflow(editor: httpx.Client, viewer: httpx.Client) -> None:
    first, second = (w["id"] for w in viewer.get("/workflows").json()["rows"][:2])
    assert dispatch(editor, first, idempotencyKey="k")["id"] != dispatch(editor, second, idempotencyKey="k")["id"]


def test_a_dispatch_can_name_its_baseline_run(editor: httpx.Client, ids: dict[str, str]) -> None:
    run = dispatch(editor, ids["workflow"], baselineRunId=ids["run"])
    assert run["baseline_run_id"] == ids["run"]


# ---- topics ----


def test_a_topic_patch_shows_in_the_list_the_detail_the_overview_and_the_truth(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    topics = viewer.get("/insights/topics", params={"range": "7d"}).json()["rows"]
    topic = topics[0]
    response = editor.patch(f"/insights/topics/{topic['id']}", json={
        "label": "  Find stale issues ", "is_unmet_demand": not topic["is_unmet_demand"], "archived": True,
    })
    assert response.status_code == 200
    edited = response.json()
    assert (edited["label"], edited["is_unmet_demand"], edited["archived"]) == (
        "Find stale issues", not topic["is_unmet_demand"], True)
    assert edited["session_count"] == topic["session_count"] and "sample_sessions" in edited

    listed = {t["id"]: t for t in viewer.get("/insights/topics", params={"range": "7d"}).json()["rows"]}
    assert listed[topic["id"]] == {**topic, "label": "Find stale issues",
                                   "is_unmet_demand": not topic["is_unmet_demand"], "archived": True}
    assert viewer.get(f"/insights/topics/{topic['id']}").json() == edited
    top = viewer.get("/insights/overview", params={"range": "7d"}).json()["top_topics"]
    assert {t["id"]: t["label"] for t in top}[topic["id"]] == "Find stale issues"
    line = next(t for t in small.control.truth()["topics"] if t["id"] == topic["id"])
    assert line == {"id": topic["id"], "label": "Find stale issues",
                    "is_unmet_demand": not topic["is_unmet_demand"], "archived": True}

    unarchived = editor.patch(f"/insights/topics/{topic['id']}", json={"archived": False}).json()
    assert unarchived["archived"] is False and unarchived["label"] == "Find stale issues"


# ---- dialect and determinism ----


def test_writes_answer_in_the_alt_dialect_but_take_the_documented_bodies(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    small.control.reset(**SMALL, dialect="alt")
    server_id = viewer.get("/mcp-servers").json()["data"][0]["id"]
    created = create_workflow(editor, server_id, schedule={"cron": "0 9 * * *", "timezone": "Europe/Berlin"})
    assert {"mcpServerId", "currentVersion", "archivedAt", "testerModelIds"} <= set(created)
    run = dispatch(editor, created["id"], idempotencyKey="alt")
    assert {"workflowId", "startedAt", "baselineRunId"} <= set(run)
    topic = viewer.get("/insights/topics", params={"range": "90d"}).json()["data"][0]
    edited = editor.patch(f"/insights/topics/{topic['id']}", json={"is_unmet_demand": True}).json()
    assert edited["isUnmetDemand"] is True


def do_writes(sim: RunningSim, api: httpx.Client) -> dict[str, Any]:
    """A fixed script of writes with the clock moving between them; returns every answer."""
    answers: dict[str, Any] = {}
    server = api.post("/mcp-servers", json={"name": "Infra MCP"}).json()
    answers["server"] = server
    workflow = create_workflow(api, server["id"], schedule={"cron": "0 * * * *"},
                               criteria=[{"criterionText": "a", "isRequired": True}])
    answers["workflow"] = workflow
    sim.control.advance(minutes=90)
    answers["patched"] = api.patch(f"/workflows/{workflow['id']}", json={"name": "Renamed"}).json()
    answers["runs"] = [dispatch(api, workflow["id"], idempotencyKey="k"), dispatch(api, workflow["id"])]
    topic = api.get("/insights/topics", params={"range": "90d"}).json()["rows"][0]
    answers["topic"] = api.patch(f"/insights/topics/{topic['id']}", json={"label": "Edited"}).json()
    sim.control.advance(minutes=600)
    old = api.get("/workflows").json()["rows"][0]
    answers["archive"] = api.delete(f"/workflows/{old['id']}").json()
    answers["run_bodies"] = [api.get(f"/runs/{r['id']}/tool-calls").json() for r in answers["runs"]]
    answers["truth"] = sim.control.truth()
    return answers


def test_the_same_seed_and_the_same_writes_give_the_same_world_and_reset_drops_them(
    small: RunningSim, editor: httpx.Client
) -> None:
    fresh = small.control.truth()
    first = do_writes(small, editor)
    small.control.reset(**SMALL)
    assert small.control.truth() == fresh
    assert do_writes(small, editor) == first
