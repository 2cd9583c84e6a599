"""The simulator's write API: roles, validation, and what each write does to the world.

Every test starts from a small world. Expected ids and counts come from `/_sim/truth` and
from the API's own answers, never from numbers typed in here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from armature_sim.server import RunningSim
from tests.support.ci_job import EDITOR_KEY, client, dispatch, poll_to_end

SMALL = {"seed": 11, "runs": 120, "sessions": 120}
ROLES = ("viewer", "editor", "admin", "owner")
KEYS = {"viewer": "amt_demo_localsimulator", "editor": EDITOR_KEY,
        "admin": "amt_admin_localsimulator", "owner": "amt_owner_localsimulator"}
# one valid request for every write; {workflow}, {topic}, {server} and {run} become real ids
WRITES = [
    ("POST", "/mcp-servers", {"name": "Infra MCP", "baseUrl": "https://infra.example.com/mcp"}),
    ("POST", "/workflows", {"name": "Deploy smoke", "mcpServerId": "{server}", "testerPrompt": "List open issues."}),
    ("PATCH", "/workflows/{workflow}", {"name": "Renamed"}),
    ("POST", "/workflows/{workflow}/runs", {"reason": "deploy"}),
    ("PATCH", "/insights/topics/{topic}", {"label": "Renamed topic"}),
    ("DELETE", "/workflows/{workflow}", None),
]


@pytest.fixture(scope="module")
def keyed(sim_server: RunningSim) -> Iterator[dict[str, httpx.Client]]:
    """One client per role, for the module."""
    clients = {role: client(sim_server, KEYS[role]) for role in ROLES}
    yield clients
    for api in clients.values():
        api.close()


@pytest.fixture
def small(sim: RunningSim) -> RunningSim:
    """The simulator rebuilt as a small world."""
    sim.control.reset(**SMALL)
    return sim


@pytest.fixture
def editor(small: RunningSim, keyed: dict[str, httpx.Client]) -> httpx.Client:
    return keyed["editor"]


@pytest.fixture
def viewer(small: RunningSim, keyed: dict[str, httpx.Client]) -> httpx.Client:
    return keyed["viewer"]


@pytest.fixture
def ids(viewer: httpx.Client) -> dict[str, str]:
    """Real ids of the small world: a live workflow, a listed topic, an MCP source, a terminal run."""
    runs = viewer.get("/runs", params={"range": "30d", "status": "pass"}).json()["rows"]
    return {
        "workflow": viewer.get("/workflows").json()["rows"][0]["id"],
        "topic": viewer.get("/insights/topics", params={"range": "90d"}).json()["rows"][0]["id"],
        "server": viewer.get("/mcp-servers").json()["rows"][0]["id"],
        "run": runs[0]["id"],
    }


def filled(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every `{name}` placeholder replaced by the real id."""
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


def send(api: httpx.Client, method: str, path: str, body: Any, ids: dict[str, str]) -> httpx.Response:
    content = None if body is None else body if isinstance(body, bytes) else json.dumps(filled(body, ids))
    return api.request(method, filled(path, ids), content=content, headers={"Content-Type": "application/json"})


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def create_workflow(api: httpx.Client, server_id: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "Deploy smoke", "mcpServerId": server_id, "testerPrompt": "List open issues.", **extra}
    response = api.post("/workflows", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def truth_run(sim: RunningSim, run_id: str) -> dict[str, Any]:
    return next(r for r in sim.control.truth()["runs"] if r["id"] == run_id)


# ---- roles ----


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_every_write_with_a_viewer_key_is_403_forbidden_role_and_changes_nothing(
    small: RunningSim, viewer: httpx.Client, ids: dict[str, str], method: str, path: str, body: Any
) -> None:
    before = small.control.truth()
    response = send(viewer, method, path, body, ids)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_role"
    assert small.control.truth() == before


@pytest.mark.parametrize("role", ["editor", "admin", "owner"])
def test_editor_admin_and_owner_keys_may_write(
    small: RunningSim, keyed: dict[str, httpx.Client], ids: dict[str, str], role: str
) -> None:
    statuses = [send(keyed[role], method, path, body, ids).status_code for method, path, body in WRITES]
    assert statuses == [201, 201, 200, 202, 200, 200]
    assert small.control.truth()["writes"] == len(WRITES)


def test_a_viewer_is_refused_before_its_body_is_read(viewer: httpx.Client, ids: dict[str, str]) -> None:
    response = send(viewer, "POST", "/workflows", b"{not json", ids)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden_role"


def test_a_write_without_a_key_is_401_unauthenticated(small: RunningSim) -> None:
    response = httpx.post(f"{small.api_url}/mcp-servers", json={"name": "x"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


# ---- validation ----


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/mcp-servers", {}, "name"),
        ("POST", "/mcp-servers", {"name": "   "}, "name"),
        ("POST", "/mcp-servers", {"name": 5}, "name"),
        ("POST", "/mcp-servers", {"name": "x", "transportType": "websocket"}, "transportType"),
        ("POST", "/mcp-servers", {"name": "x", "targetKind": "api"}, "targetKind"),
        ("POST", "/mcp-servers", {"name": "x", "baseUrl": "http://plain.example.com"}, "baseUrl"),
        ("POST", "/mcp-servers", {"name": "x", "connectionConfig": ["headers"]}, "connectionConfig"),
        ("POST", "/mcp-servers", {"name": "x", "transport_type": "sse"}, "transport_type"),
        ("POST", "/mcp-servers", [{"name": "x"}], "body"),
        ("POST", "/mcp-servers", b"{not json", "body"),
        ("POST", "/workflows", {"mcpServerId": "{server}", "testerPrompt": "p"}, "name"),
        ("POST", "/workflows", {"name": "n", "testerPrompt": "p"}, "mcpServerId"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}"}, "testerPrompt"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "no-such-source", "testerPrompt": "p"}, "mcpServerId"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "testerModelIds": "gpt-5"}, "testerModelIds"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "testerModelIds": []}, "testerModelIds"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "testerTargets": [{"skillMode": "auto"}]}, "testerTargets[0].modelId"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "criteria": [{"criterionText": "ok"}, {"criterionText": "x", "isRequired": "yes"}]},
         "criteria[1].isRequired"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "schedule": {"cron": "hourly"}}, "schedule.cron"),
        ("POST", "/workflows", {"name": "n", "mcpServerId": "{server}", "testerPrompt": "p",
                                "schedule": {"cron": "0 * * * *", "tz": "UTC"}}, "schedule.tz"),
        ("PATCH", "/workflows/{workflow}", {}, "body"),
        ("PATCH", "/workflows/{workflow}", {"name": None}, "name"),
        ("PATCH", "/workflows/{workflow}", {"state": "archived"}, "state"),
        ("PATCH", "/workflows/{workflow}", {"schedule": "none"}, "schedule"),
        ("PATCH", "/workflows/{workflow}", {"mcpServerId": "no-such-source"}, "mcpServerId"),
        ("PATCH", "/workflows/{workflow}", {"limits": 10}, "limits"),
        ("POST", "/workflows/{workflow}/runs", {"forceNewRun": "true"}, "forceNewRun"),
        ("POST", "/workflows/{workflow}/runs", {"idempotencyKey": ""}, "idempotencyKey"),
        ("POST", "/workflows/{workflow}/runs", {"idempotencyKey": "k" * 256}, "idempotencyKey"),
        ("POST", "/workflows/{workflow}/runs", {"baselineRunId": "no-such-run"}, "baselineRunId"),
        ("POST", "/workflows/{workflow}/runs", {"wait": True}, "wait"),
        ("PATCH", "/insights/topics/{topic}", {}, "body"),
        ("PATCH", "/insights/topics/{topic}", {"label": ""}, "label"),
        ("PATCH", "/insights/topics/{topic}", {"archived": 1}, "archived"),
        ("PATCH", "/insights/topics/{topic}", {"isUnmetDemand": True}, "isUnmetDemand"),
    ],
)
def test_a_bad_body_is_400_naming_the_field_and_changes_nothing(
    small: RunningSim, editor: httpx.Client, ids: dict[str, str], method: str, path: str, body: Any, field: str
) -> None:
    response = send(editor, method, path, body, ids)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["field"] == field
    assert field.split("[")[0].split(".")[0] in error["message"]
    assert small.control.truth()["writes"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/workflows/no-such-workflow", {"name": "x"}),
        ("DELETE", "/workflows/no-such-workflow", None),
        ("POST", "/workflows/no-such-workflow/runs", {}),
        ("PATCH", "/insights/topics/no-such-topic", {"label": "x"}),
    ],
)
def test_a_write_to_an_unknown_id_is_404_not_found(
    editor: httpx.Client, ids: dict[str, str], method: str, path: str, body: Any
) -> None:
    response = send(editor, method, path, body, ids)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_topic_edits_answer_403_feature_disabled_while_insights_are_off(
    small: RunningSim, editor: httpx.Client, ids: dict[str, str]
) -> None:
    small.control.configure(insights=False)
    response = send(editor, "PATCH", "/insights/topics/{topic}", {"label": "x"}, ids)
    assert response.status_code == 403 and response.json()["error"]["code"] == "feature_disabled"


# ---- MCP sources ----


def test_a_new_mcp_source_is_201_listed_and_served_with_its_tools(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    body = {"name": "Infra MCP", "transportType": "sse", "baseUrl": "https://infra.example.com/sse",
            "authProfile": {"type": "bearer", "token": "s3cret"}}
    response = editor.post("/mcp-servers", json=body)
    assert response.status_code == 201
    created = response.json()
    assert (created["name"], created["transport_type"], created["target_kind"], created["base_url"]) == (
        "Infra MCP", "sse", "mcp", "https://infra.example.com/sse")
    assert created["environment"] == "production" and created["tools"]
    assert when(created["created_at"]) == small.control.now()
    assert "s3cret" not in response.text
    assert viewer.get(f"/mcp-servers/{created['id']}").json() == created
    listed = [s["id"] for s in viewer.get("/mcp-servers").json()["rows"]]
    assert listed[-1] == created["id"] and listed == small.control.truth()["mcp_servers"]


def test_a_source_outside_production_is_served_by_id_but_not_listed(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    created = editor.post("/mcp-servers", json={"name": "Staging MCP", "environment": "staging"}).json()
    assert viewer.get(f"/mcp-servers/{created['id']}").json()["environment"] == "staging"
    assert created["id"] not in [s["id"] for s in viewer.get("/mcp-servers").json()["rows"]]
    assert created["id"] not in small.control.truth()["mcp_servers"]


# ---- workflows ----


def test_a_new_workflow_is_201_active_at_version_1_and_listed(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client, ids: dict[str, str]
) -> None:
    created = create_workflow(
        editor, ids["server"], description="After each deploy.", testerModelId="gpt-5-mini",
        testerModelIds=["claude-sonnet-4-5", "gpt-5-mini"], testerTargets=[{"modelId": "gemini-2.5-pro"}],
        criteria=[{"criterionText": "Calls search first", "isRequired": True}, {"criterionText": "Is brief"}],
        schedule={"cron": "  */30 *  * * *"}, toolPolicy={"allowed_tools": ["search_issues"]},
    )
    assert created["state"] == "active" and created["archived_at"] is None
    assert created["current_version"]["number"] == 1
    assert created["tester_model_ids"] == ["gpt-5-mini", "claude-sonnet-4-5", "gemini-2.5-pro"]
    assert [(c["text"], c["is_required"]) for c in created["criteria"]] == [
        ("Calls search first", True), ("Is brief", False)]
    assert created["schedule"] == {"cron": "*/30 * * * *", "timezone": "UTC"}
    server = viewer.get(f"/mcp-servers/{ids['server']}").json()
    assert created["mcp_server_id"] == server["id"] and created["categories"] == server["categories"]
    assert viewer.get(f"/workflows/{created['id']}").json() == created
    assert viewer.get("/workflows").json()["rows"][-1] == created
    record = small.control.truth()["workflow_records"][-1]
    assert (record["id"], record["state"], record["current_version"]["number"]) == (created["id"], "active", 1)


def test_a_workflow_without_tester_models_or_schedule_gets_the_default_model_and_is_manual_only(
    editor: httpx.Client, ids: dict[str, str]
) -> None:
    created = create_workflow(editor, ids["server"])
    assert len(created["tester_model_ids"]) == 1
    assert created["schedule"] is None and created["criteria"] == []


def test_every_patch_writes_a_new_version_and_runs_keep_the_version_they_ran(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    small.control.advance(minutes=5)  # so that the edit's time differs from the world's start
    workflow_id = small.control.truth()["runs"][0]["workflow_id"]
    original = viewer.get(f"/workflows/{workflow_id}").json()
    runs_before = viewer.get("/runs", params={"range": "30d", "workflowId": workflow_id, "pageSize": 100}).json()

    renamed = editor.patch(f"/workflows/{workflow_id}", json={"name": "Renamed workflow"})
    assert renamed.status_code == 200
    first = renamed.json()
    assert first["name"] == "Renamed workflow"
    assert first["current_version"]["number"] == original["current_version"]["number"] + 1
    assert first["current_version"]["id"] != original["current_version"]["id"]
    assert first["criteria"] == original["criteria"]
    assert when(first["updated_at"]) == when(first["current_version"]["created_at"]) == small.control.now()

    second = editor.patch(f"/workflows/{workflow_id}", json={
        "criteria": [{"criterionText": "Answers in one message", "isRequired": True}],
        "testerModelIds": ["gpt-5"], "state": "paused",
    }).json()
    assert second["current_version"]["number"] == first["current_version"]["number"] + 1
    assert [c["text"] for c in second["criteria"]] == ["Answers in one message"]
    assert second["tester_model_ids"] == ["gpt-5"] and second["state"] == "paused"
    assert viewer.get(f"/workflows/{workflow_id}").json() == second

    runs_after = viewer.get("/runs", params={"range": "30d", "workflowId": workflow_id, "pageSize": 100}).json()
    assert runs_after == runs_before
    record = next(w for w in small.control.truth()["workflow_records"] if w["id"] == workflow_id)
    assert record["versions"] == 3 and record["current_version"]["id"] == second["current_version"]["id"]


def test_moving_a_workflow_to_another_source_leaves_its_runs_on_the_old_one(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    workflow = viewer.get("/workflows").json()["rows"][0]
    other = next(s for s in viewer.get("/mcp-servers").json()["rows"] if s["id"] != workflow["mcp_server_id"])
    moved = editor.patch(f"/workflows/{workflow['id']}", json={"mcpServerId": other["id"]}).json()
    assert moved["mcp_server_id"] == other["id"] and moved["categories"] == other["categories"]
    runs = viewer.get("/runs", params={"range": "30d", "workflowId": workflow["id"]}).json()["rows"]
    assert runs and {r["mcp_server_id"] for r in runs} == {workflow["mcp_server_id"]}
    run = dispatch(editor, workflow["id"])
    assert run["mcp_server_id"] == other["id"]


def test_schedule_null_makes_a_workflow_manual_only_and_archiving_takes_it_out_of_the_run_stream(
    sim: RunningSim, editor: httpx.Client, viewer: httpx.Client, ids: dict[str, str]
) -> None:
    # a busier world than the others: the stream must reach the new workflow within a day
    sim.control.reset(seed=11, runs=3000, sessions=120)
    created = create_workflow(editor, ids["server"], schedule={"cron": "*/15 * * * *"})
    sim.control.advance(minutes=24 * 60)
    ran = [r for r in sim.control.truth()["runs"] if r["workflow_id"] == created["id"]]
    assert ran, "a scheduled workflow joins the run stream"
    assert "scheduled" in {r["trigger"] for r in ran}

    manual = editor.patch(f"/workflows/{created['id']}", json={"schedule": None}).json()
    assert manual["schedule"] is None and manual["state"] == "active"
    assert manual["current_version"]["number"] == 2
    seen = {r["id"] for r in ran}
    sim.control.advance(minutes=2 * 24 * 60)
    later = [r for r in sim.control.truth()["runs"] if r["workflow_id"] == created["id"] and r["id"] not in seen]
    assert {r["trigger"] for r in later} <= {"manual"}

    assert editor.delete(f"/workflows/{created['id']}").json() == {"ok": True}
    seen |= {r["id"] for r in later}
    sim.control.advance(minutes=2 * 24 * 60)
    assert {r["id"] for r in sim.control.truth()["runs"] if r["workflow_id"] == created["id"]} <= seen


def test_delete_archives_a_workflow_out_of_the_list_but_served_by_id_with_its_runs(
    small: RunningSim, editor: httpx.Client, viewer: httpx.Client
) -> None:
    small.control.advance(minutes=3)  # so that the archive's time differs from the world's start
    truth = small.control.truth()
    workflow_id = truth["runs"][0]["workflow_id"]
    before = viewer.get(f"/workflows/{workflow_id}").json()
    runs_before = viewer.get("/runs", params={"range": "30d", "workflowId": workflow_id, "pageSize": 100}).json()

    response = editor.delete(f"/workflows/{workflow_id}")
    assert response.status_code == 200 and response.json() == {"ok": True}
    listed = [w["id"] for w in viewer.get("/workflows").json()["rows"]]
    assert workflow_id not in listed
    assert listed == [w for w in truth["workflows"] if w != workflow_id] == small.control.truth()["workflows"]
    archived = viewer.get(f"/workflows/{workflow_id}").json()
    assert archived["state"] == "archived"
    assert when(archived["archived_at"]) == when(archived["updated_at"]) == small.control.now()
    assert archived["current_version"] == before["current_version"]
    assert {k: v for k, v in archived.items() if k not in ("state", "archived_at", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("state", "archived_at", "updated_at")}
    runs_after = viewer.get("/runs", params={"range": "30d", "workflowId": workflow_id, "pageSize": 100}).json()
    assert runs_after == runs_before and runs_after["total"] > 0

    record = next(w for w in small.control.truth()["workflow_records"] if w["id"] == workflow_id)
    assert record["state"] == "archived" and when(record["archived_at"]) == when(archived["archived_at"])
    assert small.control.truth()["counts"]["archived_workflows"] == 1

    small.control.advance(minutes=3)
    assert editor.delete(f"/workflows/{workflow_id}").json() == {"ok": True}
    assert viewer.get(f"/workflows/{workflow_id}").json()["archived_at"] == archived["archived_at"]


def test_an_archived_workflow_can_be_read_but_not_patched_or_dispatched(
    editor: httpx.Client, ids: dict[str, str]
) -> None:
    editor.delete(f"/workflows/{ids['workflow']}")
    for response in (editor.patch(f"/workflows/{ids['workflow']}", json={"name": "x"}),
                     editor.post(f"/workflows/{ids['workflow']}/runs", json={})):
        assert response.status_code == 400
        assert response.json()["error"]["details"]["field"] == "id"
        assert "archived" in response.json()["error"]["message"]


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
