"""What the simulator's write API tests share: one valid request for every write, and the
helpers that fill in real ids and read the truth."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from armature_sim.server import RunningSim

SMALL = {"seed": 11, "runs": 120, "sessions": 120}  # the small world every write test starts from
# one valid request for every write; {workflow}, {topic}, {server} and {run} become real ids
WRITES = [
    ("POST", "/mcp-servers", {"name": "Infra MCP", "baseUrl": "https://infra.example.com/mcp"}),
    ("POST", "/workflows", {"name": "Deploy smoke", "mcpServerId": "{server}", "testerPrompt": "List open issues."}),
    ("PATCH", "/workflows/{workflow}", {"name": "Renamed"}),
    ("POST", "/workflows/{workflow}/runs", {"reason": "deploy"}),
    ("PATCH", "/insights/topics/{topic}", {"label": "Renamed topic"}),
    ("DELETE", "/workflows/{workflow}", None),
]


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

