"""The baseline: dlt's generic `rest_api` source, configured by hand for Armature's endpoints.

It is what a user gets from the docs in an afternoon: the same endpoints the armature source
reads, bearer auth, `page_number` paging on /runs, the children of each run and session as
dependent resources, and dlt's defaults for everything else (sequential requests, nested
JSON exploded into child tables, no incremental state). The one setting beyond the minimum
is ignoring 404 on /runs/{id}/evaluation, without which the load stops at the first open run,
and `data_selector: "$"` on the single-object bodies: left to itself, dlt picks the first
list inside them (an evaluation's criteria, the overview's trend) and drops the record.
"""

from __future__ import annotations

from typing import Any

from dlt.sources.rest_api import rest_api_source

INSIGHT_RANGES = ("24h", "7d", "30d", "90d")
SESSIONS_RANGE = "90d"
SESSION_LIMIT = 100
LIST_LIMIT = 200
WHOLE = "$"  # the body is one record
IGNORE_404 = [{"status_code": 404, "action": "ignore"}]


def config(api_url: str, api_key: str) -> dict[str, Any]:
    """The rest_api configuration for one Armature host (REST base ending in /api/armature/v1)."""
    return {
        "client": {
            "base_url": api_url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": api_key},
        },
        "resources": [
            {"name": "organization", "endpoint": {"path": "org", "data_selector": WHOLE}},
            {"name": "mcp_servers", "endpoint": {"path": "mcp-servers", "data_selector": "rows"}},
            _child("mcp_server_details", "mcp-servers/{resources.mcp_servers.id}", WHOLE),
            {"name": "workflows", "endpoint": {"path": "workflows", "data_selector": "rows"}},
            {
                "name": "runs",
                "endpoint": {
                    "path": "runs",
                    "params": {"range": "30d", "pageSize": 100},
                    "data_selector": "rows",
                    "paginator": {
                        "type": "page_number",
                        "base_page": 1,
                        "page_param": "page",
                        "total_path": "total",
                    },
                },
            },
            _child("run_traces", "runs/{resources.runs.id}/trace", "spans"),
            _child("run_tool_calls", "runs/{resources.runs.id}/tool-calls", "rows"),
            _child("run_evaluations", "runs/{resources.runs.id}/evaluation", WHOLE, ignore_404=True),
            *_per_range("insights_overview", "insights/overview", WHOLE, {}),
            *_per_range("topics", "insights/topics", "rows", {"sort": "volume", "limit": LIST_LIMIT}),
            *_per_range("failed_searches", "insights/searches", "rows", {"limit": LIST_LIMIT}),
            {
                "name": "sessions",
                "endpoint": {
                    "path": "insights/sessions",
                    "params": {"range": SESSIONS_RANGE, "limit": SESSION_LIMIT},
                    "data_selector": "sessions",
                },
            },
            _child("session_events", "insights/sessions/{resources.sessions.id}/trace", "events"),
        ],
    }


def source(api_url: str, api_key: str) -> Any:
    """The baseline source, ready for `pipeline.run`."""
    return rest_api_source(config(api_url, api_key))  # type: ignore[arg-type]


def _child(name: str, path: str, selector: str | None = None, ignore_404: bool = False) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"path": path}
    if selector:
        endpoint["data_selector"] = selector
    if ignore_404:
        endpoint["response_actions"] = IGNORE_404
    return {"name": name, "endpoint": endpoint}


def _per_range(name: str, path: str, selector: str | None, params: dict[str, Any]) -> list[dict[str, Any]]:
    resources = []
    for range_ in INSIGHT_RANGES:
        endpoint: dict[str, Any] = {"path": path, "params": {**params, "range": range_}}
        if selector:
            endpoint["data_selector"] = selector
        resources.append({"name": f"{name}_{range_}", "endpoint": endpoint})
    return resources
