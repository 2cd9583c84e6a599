"""The simulator's write API: which roles may write, and what a bad write is answered.

Every test starts from a small world. Expected ids and counts come from `/_sim/truth` and
from the API's own answers, never from numbers typed in here.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from armature_sim.server import RunningSim
from tests.support.sim_writes import WRITES, send, when

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
