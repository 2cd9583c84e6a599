"""The OpenAPI 3.0.3 document of Armature's REST API, as the simulator serves it.

Records are written once, in the `armature` dialect's snake_case. The `alt` dialect is
derived from the same definitions: property names turned camelCase, every list array
under `data`, no `total` on /runs and a lower `pageSize` cap. Query parameter names and
enum values are the same in both dialects, and so are request bodies: they are declared in
`armature_sim.writes`, camelCase except the topic PATCH, as Armature documents them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from armature_sim import vocabulary as vocab
from armature_sim.vocabulary import API_PREFIX, Limit  # API_PREFIX is also imported from here
from armature_sim.writes import REQUEST_BODIES, request_schema

Schema = dict[str, Any]


@dataclass(frozen=True)
class Dialect:
    """What differs between the two wire dialects the simulator speaks."""

    name: str
    camel_case: bool
    list_key: str | None  # None: each list keeps its own array key (`rows`, `sessions`, ...)
    runs_total: bool
    max_page_size: int


DIALECTS: dict[str, Dialect] = {
    "armature": Dialect(
        "armature", camel_case=False, list_key=None, runs_total=True, max_page_size=vocab.PAGE_SIZE.cap
    ),
    "alt": Dialect("alt", camel_case=True, list_key="data", runs_total=False, max_page_size=vocab.ALT_PAGE_SIZE_CAP),
}
# the error answers operations document; a 405 is the router's, for any undocumented method
_ERROR_RESPONSES = ("400", "401", "403", "404", "429", "500")


# --- schema primitives -------------------------------------------------------------


def _typed(type_: str, nullable: bool, **keywords: Any) -> Schema:
    """Return a schema of one JSON type, with its keywords and nullability."""
    schema: Schema = {"type": type_, **{k: v for k, v in keywords.items() if v is not None}}
    if nullable:
        schema["nullable"] = True
    return schema


def _string(*, enum: tuple[str, ...] | None = None, nullable: bool = False, fmt: str | None = None) -> Schema:
    """Return a string schema."""
    return _typed("string", nullable, enum=list(enum) if enum else None, format=fmt)


def _timestamp(*, nullable: bool = False) -> Schema:
    """Return an RFC 3339 timestamp schema."""
    return _string(fmt="date-time", nullable=nullable)


def _integer(*, minimum: int | None = 0, maximum: int | None = None, nullable: bool = False) -> Schema:
    """Return an integer schema, non-negative unless told otherwise."""
    return _typed("integer", nullable, minimum=minimum, maximum=maximum)


def _number(
    *, minimum: float | None = None, maximum: float | None = None, nullable: bool = False
) -> Schema:
    """Return a number schema."""
    return _typed("number", nullable, minimum=minimum, maximum=maximum)


def _boolean() -> Schema:
    """Return a boolean schema."""
    return {"type": "boolean"}


def _array(items: Schema) -> Schema:
    """Return an array schema."""
    return {"type": "array", "items": items}


def _strings() -> Schema:
    """Return a list-of-strings schema."""
    return _array(_string())


def _free_form(description: str) -> Schema:
    """Return an open-ended object whose keys the contract does not fix."""
    return {"type": "object", "additionalProperties": True, "description": description}


def _object(properties: dict[str, Schema], *, nullable: bool = False) -> Schema:
    """Return an object requiring every listed property; extra properties stay allowed."""
    schema: Schema = {"type": "object", "required": list(properties), "properties": properties}
    if nullable:
        schema["nullable"] = True
    return schema


def _ref(name: str) -> Schema:
    """Return a reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


# --- records (snake_case, as in the `armature` dialect) -------------------------------


def _org_response() -> Schema:
    """GET /org: camelCase in both dialects, as Armature documents it."""
    return _object(
        {
            "organization": _object({"id": _string(), "slug": _string(), "name": _string()}),
            "actor": _object(
                {
                    "apiKeyId": _string(),
                    "apiKeyName": _string(),
                    "userProfileId": _string(nullable=True),
                    "role": _string(enum=vocab.ROLES),
                    "email": _string(nullable=True),
                }
            ),
        }
    )


def _mcp_server_fields() -> dict[str, Schema]:
    """Fields of an MCP source."""
    return {
        "id": _string(),
        "name": _string(),
        "transport_type": _string(enum=vocab.TRANSPORTS),
        "target_kind": _string(enum=vocab.TARGET_KINDS),
        "base_url": _string(nullable=True),
        "categories": _strings(),
        "environment": _string(),
        "created_at": _timestamp(),
        "updated_at": _timestamp(),
    }


def _mcp_server_detail() -> Schema:
    """GET /mcp-servers/{id}: the list record plus its tool catalog."""
    tool = _object({"name": _string(), "description": _string()})
    return _object({**_mcp_server_fields(), "tools": _array(tool)})


def _workflow() -> Schema:
    """A workflow with its schedule, criteria and current version."""
    return _object(
        {
            "id": _string(),
            "name": _string(),
            "description": _string(),
            "mcp_server_id": _string(),
            "state": _string(enum=vocab.WORKFLOW_STATES),
            "categories": _strings(),
            "schedule": _object({"cron": _string(), "timezone": _string()}, nullable=True),
            "tester_model_ids": _strings(),
            "criteria": _array(_object({"id": _string(), "text": _string(), "is_required": _boolean()})),
            "current_version": _object(
                {"id": _string(), "number": _integer(minimum=1), "created_at": _timestamp()}
            ),
            "created_at": _timestamp(),
            "updated_at": _timestamp(),
            "archived_at": _timestamp(nullable=True),
        }
    )


def _run_fields() -> dict[str, Schema]:
    """Fields of a run; the end, duration, cost and classification are null until terminal."""
    return {
        "id": _string(),
        "workflow_id": _string(),
        "workflow_name": _string(),
        "workflow_version_id": _string(),
        "mcp_server_id": _string(),
        "status": _string(enum=vocab.RUN_STATUSES),
        "classification": _string(enum=vocab.CLASSIFICATIONS, nullable=True),
        "trigger": _string(enum=vocab.TRIGGERS),
        "model": _string(),
        "started_at": _timestamp(),
        "ended_at": _timestamp(nullable=True),
        "duration_ms": _integer(nullable=True),
        "cost_usd": _number(minimum=0, nullable=True),
        "tool_call_count": _integer(),
        "baseline_run_id": _string(nullable=True),
        "reason": _string(nullable=True),
    }


def _run_detail() -> Schema:
    """GET /runs/{id}: the run plus the judge and its output once terminal."""
    output = _object(
        {"verdict": _string(enum=vocab.VERDICTS), "summary": _string()}, nullable=True
    )
    return _object({**_run_fields(), "judge_model": _string(nullable=True), "evaluator_output": output})


def _span() -> Schema:
    """One span of a run's trace."""
    return _object(
        {
            "id": _string(),
            "parent_id": _string(nullable=True),
            "name": _string(),
            "kind": _string(enum=vocab.SPAN_KINDS),
            "status": _string(enum=vocab.SPAN_STATUSES),
            "started_at": _timestamp(),
            "ended_at": _timestamp(),
            "duration_ms": _integer(),
            "attributes": _free_form("Model, token counts, tool_name and more; open-ended."),
        }
    )


def _evaluation() -> Schema:
    """GET /runs/{id}/evaluation: the judge's verdict per criterion."""
    criterion = _object(
        {
            "criterion_id": _string(),
            "text": _string(),
            "is_required": _boolean(),
            "verdict": _string(enum=vocab.CRITERION_VERDICTS),
            "score": _number(minimum=0, maximum=1),
            "rationale": _string(),
            "excerpts": _strings(),
        }
    )
    return _object(
        {
            "run_id": _string(),
            "verdict": _string(enum=vocab.VERDICTS),
            "classification": _string(enum=vocab.CLASSIFICATIONS),
            "judge_model": _string(),
            "summary": _string(),
            "criteria": _array(criterion),
        }
    )


def _tool_call() -> Schema:
    """One recorded MCP tool call of a run."""
    return _object(
        {
            "id": _string(),
            "seq": _integer(),
            "span_id": _string(),
            "tool_name": _string(),
            "arguments": _free_form("The tool's arguments; open-ended."),
            "result": {"description": "The tool's result body: any JSON, up to about 64 KiB."},
            "is_error": _boolean(),
            "error_message": _string(nullable=True),
            "started_at": _timestamp(),
            "duration_ms": _integer(),
        }
    )


def _overview() -> Schema:
    """GET /insights/overview: headline numbers for one window."""
    kpis = _object(
        {
            "sessions": _integer(),
            "tool_calls": _integer(),
            "error_rate": _number(minimum=0, maximum=1),
            "unmet_demand_sessions": _integer(),
            "failed_searches": _integer(),
            "active_actors": _integer(),
        }
    )
    day = _object(
        {"date": _string(fmt="date"), "sessions": _integer(), "tool_calls": _integer(), "errors": _integer()}
    )
    top_topic = _object({"id": _string(), "label": _string(), "session_count": _integer()})
    top_search = _object({"id": _string(), "query": _string(), "occurrences": _integer()})
    return _object(
        {
            "range": _string(enum=tuple(vocab.INSIGHT_RANGES)),
            "generated_at": _timestamp(),
            "kpis": kpis,
            "trend": _array(day),
            "top_topics": _array(top_topic),
            "top_failed_searches": _array(top_search),
        }
    )


def _topic_fields() -> dict[str, Schema]:
    """Fields of a topic; counts depend on the range, sightings are null until a session."""
    return {
        "id": _string(),
        "label": _string(),
        "is_unmet_demand": _boolean(),
        "archived": _boolean(),
        "session_count": _integer(),
        "tool_call_count": _integer(),
        "error_rate": _number(minimum=0, maximum=1),
        "frustration_score": _number(minimum=0, maximum=1),
        "trend": _number(),
        "first_seen_at": _timestamp(nullable=True),
        "last_seen_at": _timestamp(nullable=True),
        "sample_intents": _strings(),
    }


def _sample_session() -> Schema:
    """A session quoted as an example inside a topic or failed search."""
    return _object({"id": _string(), "raw_intent": _string(nullable=True), "last_event_at": _timestamp()})


def _topic_detail() -> Schema:
    """GET /insights/topics/{id}: the topic plus sample sessions and related searches."""
    related = _object({"id": _string(), "query": _string()})
    return _object(
        {
            **_topic_fields(),
            "sample_sessions": _array(_sample_session()),
            "related_searches": _array(related),
        }
    )


def _failed_search_fields() -> dict[str, Schema]:
    """Fields of a failed-search cluster; counts depend on the range, sightings may be null."""
    return {
        "id": _string(),
        "query": _string(),
        "suggested_gap": _string(),
        "occurrences": _integer(),
        "session_count": _integer(),
        "first_seen_at": _timestamp(nullable=True),
        "last_seen_at": _timestamp(nullable=True),
        "example_queries": _strings(),
    }


def _failed_search_detail() -> Schema:
    """GET /insights/searches/{id}: the cluster plus sample sessions."""
    return _object({**_failed_search_fields(), "sample_sessions": _array(_sample_session())})


def _session() -> Schema:
    """A production MCP session seen by MCP Analytics."""
    return _object(
        {
            "id": _string(),
            "mcp_server_id": _string(),
            "session_key": _string(),
            "actor_id": _string(),
            "raw_intent": _string(nullable=True),
            "client_name": _string(nullable=True),
            "client_version": _string(nullable=True),
            "topic_id": _string(nullable=True),
            "event_count": _integer(),
            "ok_count": _integer(),
            "error_count": _integer(),
            "started_at": _timestamp(),
            "last_event_at": _timestamp(),
        }
    )


def _event() -> Schema:
    """One event of a session trace."""
    return _object(
        {
            "event_id": _string(),
            "kind": _string(enum=vocab.EVENT_KINDS),
            "started_at": _timestamp(),
            "finished_at": _timestamp(nullable=True),
            "duration_ms": _integer(nullable=True),
            "ok": _boolean(),
            "error": _string(nullable=True),
            "metadata": _free_form(
                "tool_name, user_intent, agent_thinking, user_frustration, input_preview, "
                "workflow_run_id and more; open-ended."
            ),
            "result_preview": _string(nullable=True),
        }
    )


def _error() -> Schema:
    """The error envelope every JSON error carries."""
    body = {"code": _string(), "message": _string(), "details": _free_form("Which input failed, and why.")}
    error: Schema = {"type": "object", "required": ["code", "message"], "properties": body}
    return _object({"error": error})


# --- envelopes ------------------------------------------------------------------------


def _list_of(dialect: Dialect, item: str, key: str = "rows") -> Schema:
    """Return a list envelope: one array member, under the dialect's key."""
    return _object({dialect.list_key or key: _array(_ref(item))})


def _run_page(dialect: Dialect) -> Schema:
    """GET /runs: one page of runs with its paging numbers."""
    fields: dict[str, Schema] = {
        dialect.list_key or "rows": _array(_ref("Run")),
        "page": _integer(minimum=1),
        "pageSize": _integer(minimum=1, maximum=dialect.max_page_size),
    }
    if dialect.runs_total:
        fields["total"] = _integer()
    return _object(fields)


def _session_trace(dialect: Dialect) -> Schema:
    """GET /insights/sessions/{id}/trace: a list envelope that also names its session."""
    return _object({"session_id": _string(), dialect.list_key or "events": _array(_ref("Event"))})


def _schemas(dialect: Dialect) -> dict[str, Schema]:
    """Return every component schema, with snake_case property names."""
    return {
        "Error": _error(),
        "OrgResponse": _org_response(),
        "McpServer": _object(_mcp_server_fields()),
        "McpServerDetail": _mcp_server_detail(),
        "McpServerList": _list_of(dialect, "McpServer"),
        "Workflow": _workflow(),
        "WorkflowList": _list_of(dialect, "Workflow"),
        "Run": _object(_run_fields()),
        "RunDetail": _run_detail(),
        "RunPage": _run_page(dialect),
        "Span": _span(),
        "RunTrace": _object({"run_id": _string(), "spans": _array(_ref("Span"))}),
        "Evaluation": _evaluation(),
        "ToolCall": _tool_call(),
        "ToolCallList": _list_of(dialect, "ToolCall"),
        "Overview": _overview(),
        "Topic": _object(_topic_fields()),
        "TopicDetail": _topic_detail(),
        "TopicList": _list_of(dialect, "Topic"),
        "FailedSearch": _object(_failed_search_fields()),
        "FailedSearchDetail": _failed_search_detail(),
        "FailedSearchList": _list_of(dialect, "FailedSearch"),
        "Session": _session(),
        "SessionList": _list_of(dialect, "Session", key="sessions"),
        "Event": _event(),
        "SessionTrace": _session_trace(dialect),
        "DispatchResponse": _object({"run": _ref("Run")}),
        "OkResponse": _object({"ok": {**_boolean(), "enum": [True]}}),
    }


def _camel(name: str) -> str:
    """Return `snake_case` as `snakeCase`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camelize(schema: Any) -> Any:
    """Return a schema with every property name (and required entry) in camelCase."""
    if isinstance(schema, list):
        return [_camelize(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Schema = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {_camel(name): _camelize(sub) for name, sub in value.items()}
        elif key == "required":
            out[key] = [_camel(name) for name in value]
        else:
            out[key] = _camelize(value)
    return out


# --- parameters and operations -----------------------------------------------------


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
    cap = dialect.max_page_size
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
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if status == "429":
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait, or an HTTP date.",
                "schema": _string(),
            }
        }
    return response


_SUCCESS = {"200": "OK", "201": "Created", "202": "Accepted: the run is queued."}


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
        success: {"description": _SUCCESS[success], "content": {"application/json": {"schema": _ref(body)}}},
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
            "content": {"application/json": {"schema": _ref(request)}},
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
    schemas = _schemas(dialect)
    if dialect.camel_case:
        schemas = {name: _camelize(schema) for name, schema in schemas.items()}
    # request bodies are spelled as documented, whatever the dialect answers in
    schemas.update({name: request_schema(*declared) for name, declared in REQUEST_BODIES.items()})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Armature REST API",
            "version": "v1",
            "description": (
                f"Armature's REST API, as served by the simulator (dialect `{dialect.name}`)."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in ("org", "mcpServers", "workflows", "runs", "insights", "meta")],
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
            "schemas": schemas,
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
