"""The OpenAPI 3.0.3 document of Armature's REST API, as the simulator serves it.

The component schemas are generated (`armature_sim.schemas`) from the wire records and the
request bodies, in the dialect asked for: property names camelCase in `alt`, every list
array under `data`, no `total` on /runs and a lower `pageSize` cap. What is written here by
hand is documentation: the paths, their parameters and summaries, and which errors each
operation can answer. Query parameter names and enum values are the same in both dialects,
and so are request bodies, camelCase except the topic PATCH, as Armature documents them.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from armature_sim import vocabulary as vocab
from armature_sim.http.dialect import DIALECTS, Dialect
from armature_sim.schemas import Schema, component_schemas, ref
from armature_sim.vocabulary import API_PREFIX, Limit  # API_PREFIX is also imported from here

# the error answers operations document; a 405 is the router's, for any undocumented method
_ERROR_RESPONSES = ("400", "401", "403", "404", "429", "500")
_TAGS = ("org", "mcpServers", "workflows", "runs", "insights", "meta")
_SUCCESS = {"200": "OK", "201": "Created", "202": "Accepted: the run is queued."}


def _string(enum: tuple[str, ...] | None = None) -> Schema:
    """A string parameter schema, optionally one of `enum`."""
    return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}


def _integer(minimum: int, maximum: int | None = None) -> Schema:
    """An integer parameter schema."""
    schema: Schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _query(name: str, schema: Schema, description: str) -> Schema:
    """Return an optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _id_param(description: str) -> Schema:
    """Return the `{id}` path parameter; ids are opaque strings."""
    return {"name": "id", "in": "path", "required": True, "description": description, "schema": _string()}


def _range_param(ranges: dict[str, int], default: str) -> Schema:
    """Return the rolling-window `range` parameter."""
    schema = {**_string(enum=tuple(ranges)), "default": default}
    return _query("range", schema, "Rolling window back from the server's now; any other value is a 400.")


def _limit_param(limit: Limit) -> Schema:
    """Return an insights `limit` parameter; larger values are silently capped."""
    schema = {**_integer(minimum=1, maximum=limit.cap), "default": limit.default}
    return _query("limit", schema, f"Most rows returned; values above {limit.cap} are served {limit.cap}.")


def _runs_params(dialect: Dialect) -> list[Schema]:
    """Return the query parameters of GET /runs."""
    cap = dialect.page_cap
    return [
        _range_param(vocab.RUN_RANGES, vocab.DEFAULT_RUN_RANGE),
        _query("workflowId", _string(), "Only runs of this workflow."),
        _query("status", _string(enum=vocab.RUN_STATUSES), "Only runs in this status."),
        _query("classification", _string(enum=vocab.CLASSIFICATIONS), "Only runs with this classification."),
        _query("search", _string(), "Free text over run metadata."),
        _query("page", {**_integer(minimum=1), "default": 1}, "Page number, from 1."),
        _query(
            "pageSize",
            {**_integer(minimum=1, maximum=cap), "default": vocab.PAGE_SIZE.default},
            f"Rows per page; values above {cap} are served {cap} rows.",
        ),
        _query(
            "sort",
            {**_string(enum=vocab.RUN_SORTS), "default": vocab.RUN_SORTS[0]},
            f"Order by start time; `{vocab.RUN_SORTS[0]}` is newest first.",
        ),
    ]


def _error_response(status: str) -> Schema:
    """Return an error response carrying the error envelope with this status's codes."""
    codes = ", ".join(f"`{code}`" for code, served in vocab.ERROR_STATUS.items() if str(served) == status)
    response: Schema = {
        "description": f"Error: {codes}.",
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if status == "429":
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait, or an HTTP date.",
                "schema": _string(),
            }
        }
    return response


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    body: str,
    *,
    parameters: list[Schema] | None = None,
    request: str | None = None,
    request_optional: bool = False,
    success: str = "200",
) -> Schema:
    """Return an operation answering `success` with a component schema, plus its errors.

    A write names its `request` body schema; a body can always be refused with a 400, and
    403 also covers keys whose role may not write.
    """
    parameters = parameters or []
    statuses = ["401", "403", "429", "500"]
    if request or any(p["in"] == "query" for p in parameters):
        statuses.append("400")
    if any(p["in"] == "path" for p in parameters):
        statuses.append("404")
    responses: Schema = {
        success: {"description": _SUCCESS[success], "content": {"application/json": {"schema": ref(body)}}},
    }
    responses.update({status: {"$ref": f"#/components/responses/{status}"} for status in sorted(statuses)})
    operation: Schema = {
        "operationId": operation_id, "tags": [tag], "summary": summary, "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if request:
        operation["requestBody"] = {
            "required": not request_optional,
            "content": {"application/json": {"schema": ref(request)}},
        }
    return operation


def _write_operations() -> dict[str, dict[str, Schema]]:
    """Return the write operations by path and method; they need an editor, admin or owner key."""
    workflow_id = [_id_param("Workflow id.")]
    return {
        "/mcp-servers": {"post": _operation(
            "createMcpServer", "mcpServers", "Register an MCP source.", "McpServerDetail",
            request="McpServerCreate", success="201",
        )},
        "/workflows": {"post": _operation(
            "createWorkflow", "workflows", "Create an active workflow at version 1.", "Workflow",
            request="WorkflowCreate", success="201",
        )},
        "/workflows/{id}": {
            "patch": _operation(
                "updateWorkflow", "workflows",
                "Change a workflow; every update writes a new version, returned in `current_version`. "
                "`schedule: null` makes it manual-only. An archived workflow is refused with a 400.",
                "Workflow", parameters=workflow_id, request="WorkflowUpdate",
            ),
            "delete": _operation(
                "archiveWorkflow", "workflows",
                "Archive a workflow: it leaves GET /workflows, GET /workflows/{id} still serves it "
                "with `state: archived` and `archived_at`, and its runs stay listed.",
                "OkResponse", parameters=workflow_id,
            ),
        },
        "/workflows/{id}/runs": {"post": _operation(
            "dispatchWorkflow", "workflows",
            "Queue one run with the workflow's first tester model. With `idempotencyKey` the run id "
            "is the UUIDv5 of the key in the workflow id's namespace, and the same key returns the "
            "same run until it is terminal; `forceNewRun` starts a new run anyway.",
            "DispatchResponse", parameters=workflow_id, request="WorkflowDispatch", request_optional=True,
            success="202",
        )},
        "/insights/topics/{id}": {"patch": _operation(
            "updateTopic", "insights", "Rename, flag or archive a topic; answers the topic as GET does.",
            "TopicDetail", parameters=[_id_param("Topic id.")], request="TopicUpdate",
        )},
    }


def _paths(dialect: Dialect) -> dict[str, Schema]:
    """Return every path: the reads, then the writes added to their paths."""
    insights_range = _range_param(vocab.INSIGHT_RANGES, vocab.DEFAULT_INSIGHT_RANGE)
    topic_sort = {**_string(enum=vocab.TOPIC_SORTS), "default": vocab.TOPIC_SORTS[0]}
    paths = {
        "/org": _operation("getOrg", "org", "The key's organization and actor.", "OrgResponse"),
        "/mcp-servers": _operation(
            "listMcpServers", "mcpServers", "Active production MCP sources.", "McpServerList"
        ),
        "/mcp-servers/{id}": _operation(
            "getMcpServer", "mcpServers", "One MCP source with its tools.", "McpServerDetail",
            parameters=[_id_param("MCP source id.")],
        ),
        "/workflows": _operation("listWorkflows", "workflows", "Active workflows.", "WorkflowList"),
        "/workflows/{id}": _operation(
            "getWorkflow", "workflows", "One workflow.", "Workflow", parameters=[_id_param("Workflow id.")]
        ),
        "/runs": _operation(
            "listRuns", "runs", "One page of runs matching the filters.", "RunPage",
            parameters=_runs_params(dialect),
        ),
        "/runs/{id}": _operation(
            "getRun", "runs", "One run with its evaluator output.", "RunDetail",
            parameters=[_id_param("Run id.")],
        ),
        "/runs/{id}/trace": _operation(
            "getRunTrace", "runs", "The run's redacted trace.", "RunTrace", parameters=[_id_param("Run id.")]
        ),
        "/runs/{id}/evaluation": _operation(
            "getRunEvaluation", "runs",
            "The run's evaluation; 404 `evaluation_not_available` unless it ended pass, partial or fail.",
            "Evaluation", parameters=[_id_param("Run id.")],
        ),
        "/runs/{id}/tool-calls": _operation(
            "listRunToolCalls", "runs", "The run's recorded tool calls, in order.", "ToolCallList",
            parameters=[_id_param("Run id.")],
        ),
        "/insights/overview": _operation(
            "getInsightsOverview", "insights", "Headline KPIs, trend and top lists.", "Overview",
            parameters=[insights_range],
        ),
        "/insights/topics": _operation(
            "listTopics", "insights", "Usage topics and unmet-demand groups.", "TopicList",
            parameters=[
                insights_range, _query("sort", topic_sort, "Ranking of topics."), _limit_param(vocab.TOPIC_LIMIT),
            ],
        ),
        "/insights/topics/{id}": _operation(
            "getTopic", "insights", "One topic with sample sessions and related searches.", "TopicDetail",
            parameters=[_id_param("Topic id."), insights_range],
        ),
        "/insights/searches": _operation(
            "listFailedSearches", "insights", "Failed-search clusters and suggested API gaps.",
            "FailedSearchList",
            parameters=[insights_range, _limit_param(vocab.SEARCH_LIMIT)],
        ),
        "/insights/searches/{id}": _operation(
            "getFailedSearch", "insights", "One failed-search cluster with sample sessions.",
            "FailedSearchDetail", parameters=[_id_param("Failed-search cluster id."), insights_range],
        ),
        "/insights/sessions": _operation(
            "listSessions", "insights", "Sessions, newest `last_event_at` first.", "SessionList",
            parameters=[
                insights_range,
                _query("intent", _string(), "Only sessions whose intent matches this text."),
                _limit_param(vocab.SESSION_LIMIT),
            ],
        ),
        "/insights/sessions/{id}/trace": _operation(
            "getSessionTrace", "insights", "The session's events.", "SessionTrace",
            parameters=[_id_param("Session id.")],
        ),
    }
    paths["/openapi"] = {
        "operationId": "getOpenapi",
        "tags": ["meta"],
        "summary": "This document.",
        "security": [],
        "responses": {
            "200": {
                "description": "The OpenAPI 3.0 document of this host.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "429": {"$ref": "#/components/responses/429"},
            "500": {"$ref": "#/components/responses/500"},
        },
    }
    items: dict[str, Schema] = {path: {"get": operation} for path, operation in paths.items()}
    for path, operations in _write_operations().items():
        items.setdefault(path, {}).update(operations)
    return items




def _build(dialect: Dialect) -> dict[str, Any]:
    """Assemble the document for one dialect."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Armature REST API",
            "version": "v1",
            "description": f"Armature's REST API, as served by the simulator (dialect `{dialect.name}`).",
        },
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in _TAGS],
        "paths": _paths(dialect),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "`Authorization: Bearer amt_<key-id>_<secret>`; any role can read, "
                        "writes need an editor, admin or owner key."
                    ),
                }
            },
            "responses": {status: _error_response(status) for status in _ERROR_RESPONSES},
            "schemas": component_schemas(dialect),
        },
    }


@lru_cache(maxsize=None)
def _cached(dialect: str) -> dict[str, Any]:
    """Build a dialect's document once."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {sorted(DIALECTS)}")
    return _build(DIALECTS[dialect])


def build_openapi(dialect: str = "armature") -> dict[str, Any]:
    """Return the OpenAPI 3.0.3 document of the API in this dialect.

    The document is built once per dialect; callers get their own copy to mutate.
    """
    return copy.deepcopy(_cached(dialect))
