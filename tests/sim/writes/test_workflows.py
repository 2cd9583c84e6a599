"""The simulator's write API: what creating, changing and archiving a workflow does to the world.

Every test starts from a small world. Expected ids and counts come from `/_sim/truth` and
from the API's own answers, never from numbers typed in here.
"""

from __future__ import annotations

import httpx

from armature_sim.server import RunningSim
from tests.support.ci_job import dispatch
from tests.support.sim_writes import create_workflow, when

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
