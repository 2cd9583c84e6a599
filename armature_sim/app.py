"""The simulator's HTTP surface: Armature's REST API in two dialects, and the `/_sim` controls.

Every request passes `SimMiddleware` first: it stamps `Date` with the simulated now, and for
API paths adds latency, applies fault rules, checks the key and the insights switch, and logs
the request. Read handlers only read the world and shape the answer. Write handlers check the
key's role (editor, admin or owner), the path's id and the body (`armature_sim.writes`), then
ask the world to change.

The two dialects (`armature`, CONTRACT.md section 1, and `alt`) are `armature_sim.http.dialect`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, replace
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Protocol, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from armature_sim.faults import App, Faults, FaultRule, FaultSpecError, Message, Receive, Scope, Send, serve_fault
from armature_sim.http.dialect import ARMATURE, DIALECTS
from armature_sim.openapi import build_openapi
from armature_sim.vocabulary import (
    API_KEYS,
    API_PREFIX,
    CLASSIFICATIONS,
    DEFAULT_INSIGHT_RANGE,
    DEFAULT_KEY,
    DEFAULT_RUN_RANGE,
    INSIGHT_RANGES,
    OPENAPI_PATH,
    PAGE_SIZE,
    RUN_RANGES,
    RUN_SORTS,
    RUN_STATUSES,
    SEARCH_LIMIT,
    SESSION_LIMIT,
    SIM_PREFIX,
    TOPIC_LIMIT,
    TOPIC_SORTS,
    WRITE_ROLES,
    SimOptions,
)
from armature_sim.world import World
from armature_sim.world.catalog import Workflow
from armature_sim.world.clock import instant
from armature_sim.world.truth import counts, truth
from armature_sim.writes import (
    BodyError,
    dispatch_draft,
    server_draft,
    topic_changes,
    workflow_changes,
    workflow_draft,
)

REQUEST_LOG_LIMIT = 500_000


class ApiError(Exception):
    """An error answer in the documented body: {"error": {"code", "message", "details"}}."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """An error answer; the body is the same in both dialects."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body = json.dumps({"error": error}, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


# ---- simulator state ----


class SimState:
    """The world, the switches and the logs one server holds."""

    def __init__(self, start: SimOptions) -> None:
        self.start = start
        self.requests: deque[tuple[str, str, str, int | None, int, str | None]] = deque(maxlen=REQUEST_LOG_LIMIT)
        self.openapi: dict[str, bytes] = {}
        self._date: tuple[int, bytes] = (0, b"")
        self.load(start)

    def load(self, options: SimOptions) -> None:
        """Rebuild the world from the seed, clear faults and the request log, set the switches."""
        self.options = options
        self.world = World(options)
        self.dialect = DIALECTS[options.dialect]
        self.insights = options.insights
        self.latency_ms = options.latency_ms
        self.faults = Faults(options.seed)
        self.requests.clear()

    def date_header(self) -> bytes:
        """`Date` for the simulated now, RFC 7231 format."""
        now = self.world.clock.now_ms
        if self._date[0] != now:
            self._date = (now, format_datetime(instant(now), usegmt=True).encode())
        return self._date[1]

    def log(self, scope: Scope, status: int | None, fault: FaultRule | None) -> None:
        """Remember one API request."""
        query = scope.get("query_string", b"").decode("latin-1")
        kind = fault.kind if fault else None
        self.requests.append((scope["method"], scope["path"], query, status, self.world.clock.now_ms, kind))

    def logged(self) -> list[dict[str, Any]]:
        """The request log as `/_sim/requests` serves it."""
        return [
            {"method": m, "path": p, "query": q, "status": s, "at": instant(at), "fault": f}
            for m, p, q, s, at, f in self.requests
        ]


class SimMiddleware:
    """Date header on everything; latency, faults, auth, the insights switch and the log on the API."""

    def __init__(self, app: App, sim: SimState) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        date = self.sim.date_header()
        status: list[int | None] = [None]

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        if not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, dated)
            return
        sim = self.sim
        delay, fault = sim.faults.pick(scope["method"], scope["path"])
        delay += sim.latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        try:
            if fault is None:
                await self._gate(scope, receive, dated)
            else:
                await serve_fault(fault, scope, receive, dated, self._gate, error_response)
        finally:
            sim.log(scope, None if fault and fault.kind == "cut" else status[0], fault)

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what the key or the insights switch does not allow, pass the rest on."""
        path = scope["path"]
        if path != OPENAPI_PATH and _bearer_key(scope) not in API_KEYS:
            response = error_response(401, "unauthenticated", "Missing, malformed or unknown API key.")
            await response(scope, receive, send)
        elif path.startswith(f"{API_PREFIX}/insights") and not self.sim.insights:
            response = error_response(403, "feature_disabled", "MCP Analytics is not enabled for this organization.")
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _bearer_key(scope: Scope) -> str | None:
    """The key from `Authorization: Bearer <key>` (scheme in any case), or None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").strip().partition(" ")
            return key.strip() if scheme.lower() == "bearer" and key.strip() else None
    return None


# ---- helpers for handlers ----


def sim_of(request: Request) -> SimState:
    """The state behind this app."""
    sim: SimState = request.app.state.sim
    return sim


def reply(request: Request, body: Any, status: int = 200) -> Response:
    """A JSON answer in the server's dialect."""
    return Response(sim_of(request).dialect.encode(body), status_code=status, media_type="application/json")


def control_reply(body: Any, status: int = 200) -> Response:
    """A `/_sim` answer (always the armature dialect)."""
    return Response(ARMATURE.encode(body), status_code=status, media_type="application/json")


def invalid(name: str, message: str, **details: Any) -> ApiError:
    """A 400 validation_failed naming the field."""
    return ApiError(400, "validation_failed", message, {"field": name, **details})


def one_of(query: QueryParams, name: str, allowed: Iterable[str], default: str | None) -> str | None:
    """A parameter that must be one of `allowed` (absent means `default`)."""
    value = query.get(name)
    if value is None or (value == "" and default is None):
        return default
    choices = list(allowed)
    if value not in choices:
        raise invalid(name, f"{name} must be one of {', '.join(choices)}.", allowed=choices, value=value)
    return value


def whole(query: QueryParams, name: str, default: int, cap: int | None = None) -> int:
    """A positive whole-number parameter; values above `cap` are served as `cap`."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{name} must be a whole number.", value=raw) from None
    if value < 1:
        raise invalid(name, f"{name} must be at least 1.", value=raw)
    return min(value, cap) if cap else value


class _Identified(Protocol):
    id: str


_Item = TypeVar("_Item", bound=_Identified)


def found(items: Mapping[str, _Item] | Iterable[_Item], key: str) -> _Item:
    """The item with id `key`, or a 404 not_found."""
    if isinstance(items, Mapping):
        item = items.get(key)
    else:
        item = next((i for i in items if i.id == key), None)
    if item is None:
        raise ApiError(404, "not_found", f"No such resource: {key}.")
    return item


def insight_range(request: Request) -> tuple[str, int]:
    """The insights `range` (default 7d) and its length."""
    name = one_of(request.query_params, "range", INSIGHT_RANGES, DEFAULT_INSIGHT_RANGE) or DEFAULT_INSIGHT_RANGE
    return name, INSIGHT_RANGES[name]


# ---- the API ----


async def org(request: Request) -> Response:
    """GET /org: the organization and the key's actor."""
    sim = sim_of(request)
    key = _bearer_key(request.scope) or DEFAULT_KEY
    key_id, key_name, role = API_KEYS[key]
    organization = sim.world.catalog.organization
    return reply(request, {
        "organization": {"id": organization.id, "slug": organization.slug, "name": organization.name},
        "actor": {"apiKeyId": key_id, "apiKeyName": key_name, "userProfileId": None, "role": role, "email": None},
    })


async def mcp_servers(request: Request) -> Response:
    """GET /mcp-servers: production sources only."""
    world = sim_of(request).world
    rows = [s.record() for s in world.catalog.listed_servers()]
    return reply(request, sim_of(request).dialect.listing("rows", rows))


async def mcp_server(request: Request) -> Response:
    """GET /mcp-servers/{id}."""
    world = sim_of(request).world
    return reply(request, found(world.catalog.mcp_servers, request.path_params["id"]).detail())


async def workflows(request: Request) -> Response:
    """GET /workflows: archived workflows are left out (GET /workflows/{id} still serves them)."""
    world = sim_of(request).world
    rows = [w.record() for w in world.catalog.listed_workflows()]
    return reply(request, sim_of(request).dialect.listing("rows", rows))


async def workflow(request: Request) -> Response:
    """GET /workflows/{id}."""
    world = sim_of(request).world
    return reply(request, found(world.catalog.workflows, request.path_params["id"]).record())


async def runs(request: Request) -> Response:
    """GET /runs: filtered, sorted, paged by number."""
    sim = sim_of(request)
    query = request.query_params
    range_name = one_of(query, "range", RUN_RANGES, DEFAULT_RUN_RANGE) or DEFAULT_RUN_RANGE
    sort = one_of(query, "sort", RUN_SORTS, RUN_SORTS[0])
    page = whole(query, "page", 1)
    size = whole(query, "pageSize", PAGE_SIZE.default, cap=sim.dialect.page_cap)
    plans = sim.world.runs.listed(
        RUN_RANGES[range_name],
        workflow_id=query.get("workflowId") or None,
        status=one_of(query, "status", RUN_STATUSES, None),
        classification=one_of(query, "classification", CLASSIFICATIONS, None),
        search=query.get("search") or None,
        newest_first=sort == RUN_SORTS[0],
    )
    rows = [sim.world.runs.record(plan) for plan in plans[(page - 1) * size : page * size]]
    return reply(request, sim.dialect.listing("rows", rows, page=page, pageSize=size, total=len(plans)))


async def run(request: Request) -> Response:
    """GET /runs/{id}: the run plus judge_model and evaluator_output."""
    world = sim_of(request).world
    return reply(request, world.runs.detail(found(world.runs.by_id, request.path_params["id"])))


async def run_trace(request: Request) -> Response:
    """GET /runs/{id}/trace: the spans so far."""
    world = sim_of(request).world
    plan = found(world.runs.by_id, request.path_params["id"])
    return reply(request, {"run_id": plan.id, "spans": world.runs.trace(plan)})


async def run_tool_calls(request: Request) -> Response:
    """GET /runs/{id}/tool-calls: the tool calls so far."""
    sim = sim_of(request)
    plan = found(sim.world.runs.by_id, request.path_params["id"])
    return reply(request, sim.dialect.listing("rows", sim.world.runs.tool_calls(plan)))


async def run_evaluation(request: Request) -> Response:
    """GET /runs/{id}/evaluation: 404 evaluation_not_available until there is one."""
    world = sim_of(request).world
    plan = found(world.runs.by_id, request.path_params["id"])
    evaluation = world.runs.evaluation(plan)
    if evaluation is None:
        why = f"it ended {plan.outcome}" if not plan.is_open(world.clock.now_ms) else "it is not terminal yet"
        raise ApiError(404, "evaluation_not_available", f"Run {plan.id} has no evaluation: {why}.")
    return reply(request, evaluation)


async def insights_overview(request: Request) -> Response:
    """GET /insights/overview."""
    name, _ = insight_range(request)
    return reply(request, sim_of(request).world.insights.overview(name))


async def insights_topics(request: Request) -> Response:
    """GET /insights/topics: topics active in the range, no paging beyond `limit`."""
    sim = sim_of(request)
    _, range_ms = insight_range(request)
    sort = one_of(request.query_params, "sort", TOPIC_SORTS, TOPIC_SORTS[0]) or TOPIC_SORTS[0]
    limit = whole(request.query_params, "limit", TOPIC_LIMIT.default, cap=TOPIC_LIMIT.cap)
    return reply(request, sim.dialect.listing("rows", sim.world.insights.topics(range_ms, sort)[:limit]))


async def insights_topic(request: Request) -> Response:
    """GET /insights/topics/{id}."""
    world = sim_of(request).world
    _, range_ms = insight_range(request)
    topic = found(world.catalog.topics, request.path_params["id"])
    return reply(request, world.insights.topic_detail(topic, range_ms))


async def insights_searches(request: Request) -> Response:
    """GET /insights/searches: failed-search clusters seen in the range."""
    sim = sim_of(request)
    _, range_ms = insight_range(request)
    limit = whole(request.query_params, "limit", SEARCH_LIMIT.default, cap=SEARCH_LIMIT.cap)
    return reply(request, sim.dialect.listing("rows", sim.world.insights.failed_searches(range_ms)[:limit]))


async def insights_search(request: Request) -> Response:
    """GET /insights/searches/{id}."""
    world = sim_of(request).world
    _, range_ms = insight_range(request)
    search = found(world.catalog.failed_searches, request.path_params["id"])
    return reply(request, world.insights.search_detail(search, range_ms))


async def insights_sessions(request: Request) -> Response:
    """GET /insights/sessions: newest last event first, capped at `limit`."""
    sim = sim_of(request)
    _, range_ms = insight_range(request)
    limit = whole(request.query_params, "limit", SESSION_LIMIT.default, cap=SESSION_LIMIT.cap)
    chosen = sim.world.sessions.listed(range_ms, request.query_params.get("intent") or None, limit)
    rows = [sim.world.sessions.record(plan, seen) for plan, seen in chosen]
    return reply(request, sim.dialect.listing("sessions", rows))


async def insights_session_trace(request: Request) -> Response:
    """GET /insights/sessions/{id}/trace: the events so far."""
    sim = sim_of(request)
    plan = found(sim.world.sessions.by_id, request.path_params["id"])
    events = sim.world.sessions.events(plan)
    return reply(request, {"session_id": plan.id, **sim.dialect.listing("events", events)})


# ---- the writes ----


def writable(request: Request) -> SimState:
    """The state, if the key may write; a viewer key is refused with 403 forbidden_role."""
    key = _bearer_key(request.scope)
    role = API_KEYS[key][2] if key in API_KEYS else None
    if role not in WRITE_ROLES:
        raise ApiError(
            403, "forbidden_role",
            f"{request.method} {request.url.path} needs an editor, admin or owner key; this key is {role}.",
            {"role": role, "allowed": list(WRITE_ROLES)},
        )
    return sim_of(request)


def referenced(items: Iterable[_Item], key: str, field: str, what: str) -> _Item:
    """The item a body member names by id, or a 400 naming that member."""
    item = next((i for i in items if i.id == key), None)
    if item is None:
        raise invalid(field, f"{field} names no {what}: {key}.", value=key)
    return item


def not_archived(workflow: Workflow) -> Workflow:
    """The workflow, unless it is archived (it can then only be read)."""
    if not workflow.live:
        raise invalid("id", f"Workflow {workflow.id} is archived; it can be read but not changed or run.")
    return workflow


async def create_mcp_server(request: Request) -> Response:
    """POST /mcp-servers: 201 with the new source and its tools."""
    world = writable(request).world
    server = world.edits.create_server(server_draft(await _json_body(request)))
    return reply(request, server.detail(), 201)


async def create_workflow(request: Request) -> Response:
    """POST /workflows: 201 with the new workflow at version 1."""
    world = writable(request).world
    draft = workflow_draft(await _json_body(request))
    server = referenced(world.catalog.mcp_servers, draft["mcp_server_id"], "mcpServerId", "MCP source")
    return reply(request, world.edits.create_workflow(draft, server).record(), 201)


async def update_workflow(request: Request) -> Response:
    """PATCH /workflows/{id}: a new version, returned in `current_version`."""
    world = writable(request).world
    workflow = found(world.catalog.workflows, request.path_params["id"])
    changes = workflow_changes(await _json_body(request))
    server = None
    if "mcp_server_id" in changes:
        server = referenced(world.catalog.mcp_servers, changes["mcp_server_id"], "mcpServerId", "MCP source")
    world.edits.update_workflow(not_archived(workflow), changes, server)
    return reply(request, workflow.record())


async def archive_workflow(request: Request) -> Response:
    """DELETE /workflows/{id}: archives (again is fine); {"ok": true}."""
    world = writable(request).world
    world.edits.archive_workflow(found(world.catalog.workflows, request.path_params["id"]))
    return reply(request, {"ok": True})


async def dispatch_workflow(request: Request) -> Response:
    """POST /workflows/{id}/runs: 202 with {"run": Run}, one run with the first tester model."""
    world = writable(request).world
    workflow = found(world.catalog.workflows, request.path_params["id"])
    draft = dispatch_draft(await _json_body(request))
    if draft.baseline_run_id is not None:
        referenced(world.runs.by_id.values(), draft.baseline_run_id, "baselineRunId", "run")
    plan = world.edits.dispatch(not_archived(workflow), draft)
    return reply(request, {"run": world.runs.record(plan)}, 202)


async def update_topic(request: Request) -> Response:
    """PATCH /insights/topics/{id}: label and flags; answers the topic as GET does (range 7d)."""
    world = writable(request).world
    topic = found(world.catalog.topics, request.path_params["id"])
    world.edits.edit_topic(topic, topic_changes(await _json_body(request)))
    return reply(request, world.insights.topic_detail(topic, INSIGHT_RANGES[DEFAULT_INSIGHT_RANGE]))


async def openapi(request: Request) -> Response:
    """GET /openapi: the document for the server's dialect (no auth)."""
    sim = sim_of(request)
    name = sim.dialect.name
    if name not in sim.openapi:
        sim.openapi[name] = ARMATURE.encode(build_openapi(name))
    return Response(sim.openapi[name], media_type="application/json")


# ---- /_sim controls ----


async def sim_truth(request: Request) -> Response:
    """GET /_sim/truth: what the API serves now, for tests to compare with."""
    sim = sim_of(request)
    served = truth(sim.world)
    head = {"now": served.pop("now"), "dialect": sim.dialect.name, "insights_enabled": sim.insights}
    return control_reply({**head, **served})


async def sim_advance(request: Request) -> Response:
    """POST /_sim/advance {"minutes": N}: move the clock."""
    body = await _json_body(request)
    minutes = body.get("minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise invalid("minutes", "minutes must be a number >= 0.")
    return control_reply(asdict(sim_of(request).world.advance(round(minutes * 60_000))))


async def sim_reset(request: Request) -> Response:
    """POST /_sim/reset {options}: rebuild the world; omitted options keep the start options."""
    sim = sim_of(request)
    options = _reset_options(sim.start, await _json_body(request))
    sim.load(options)
    return control_reply({"now": sim.world.clock.now, "options": asdict(options), "counts": counts(sim.world)})


def _reset_options(start: SimOptions, body: dict[str, Any]) -> SimOptions:
    """The start options with the body's changes, checked."""
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name not in SimOptions.__dataclass_fields__:
            raise invalid(name, f"unknown option {name}.")
        if name == "now":
            try:
                changes["now"] = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise invalid(name, "now must be an ISO 8601 time.") from None
            if changes["now"].tzinfo is None:
                raise invalid(name, "now must carry a time zone.")
        elif name == "dialect":
            if value not in DIALECTS:
                raise invalid(name, f"dialect must be one of {', '.join(DIALECTS)}.")
            changes[name] = value
        elif name == "insights":
            if not isinstance(value, bool):
                raise invalid(name, "insights must be true or false.")
            changes[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(name, f"{name} must be a whole number >= 0.")
            changes[name] = value
    return replace(start, **changes)


async def sim_faults(request: Request) -> Response:
    """GET, PUT or DELETE /_sim/faults."""
    faults = sim_of(request).faults
    if request.method == "PUT":
        try:
            faults.replace((await _json_body(request)).get("rules"))
        except FaultSpecError as exc:
            raise invalid("rules", str(exc)) from None
    elif request.method == "DELETE":
        faults.clear()
    return control_reply({"rules": faults.describe()})


async def sim_requests(request: Request) -> Response:
    """GET or DELETE /_sim/requests: the log of API requests served."""
    sim = sim_of(request)
    if request.method == "DELETE":
        sim.requests.clear()
        return control_reply({"cleared": True})
    return control_reply(sim.logged())


async def sim_config(request: Request) -> Response:
    """GET or PUT /_sim/config {"latency_ms", "insights"}: switches that keep the world."""
    sim = sim_of(request)
    if request.method == "PUT":
        body = await _json_body(request)
        latency, insights = body.get("latency_ms"), body.get("insights")
        if latency is not None:
            if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
                raise invalid("latency_ms", "latency_ms must be a whole number >= 0.")
            sim.latency_ms = latency
        if insights is not None:
            if not isinstance(insights, bool):
                raise invalid("insights", "insights must be true or false.")
            sim.insights = insights
    return control_reply({"latency_ms": sim.latency_ms, "insights": sim.insights, "dialect": sim.dialect.name})


async def sim_clock(request: Request) -> Response:
    """GET /_sim/clock."""
    return control_reply({"now": sim_of(request).world.clock.now})


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("body", "the body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid("body", "the body must be a JSON object.")
    return body


# ---- the app ----


Handler = Callable[[Request], Awaitable[Response]]


def _routes() -> list[Route]:
    """Every route: one per path, so that a 405 names all of the path's methods in `Allow`."""
    api: dict[str, dict[str, Handler]] = {
        "/org": {"GET": org},
        "/mcp-servers": {"GET": mcp_servers, "POST": create_mcp_server},
        "/mcp-servers/{id}": {"GET": mcp_server},
        "/workflows": {"GET": workflows, "POST": create_workflow},
        "/workflows/{id}": {"GET": workflow, "PATCH": update_workflow, "DELETE": archive_workflow},
        "/workflows/{id}/runs": {"POST": dispatch_workflow},
        "/runs": {"GET": runs},
        "/runs/{id}": {"GET": run},
        "/runs/{id}/trace": {"GET": run_trace},
        "/runs/{id}/tool-calls": {"GET": run_tool_calls},
        "/runs/{id}/evaluation": {"GET": run_evaluation},
        "/insights/overview": {"GET": insights_overview},
        "/insights/topics": {"GET": insights_topics},
        "/insights/topics/{id}": {"GET": insights_topic, "PATCH": update_topic},
        "/insights/searches": {"GET": insights_searches},
        "/insights/searches/{id}": {"GET": insights_search},
        "/insights/sessions": {"GET": insights_sessions},
        "/insights/sessions/{id}/trace": {"GET": insights_session_trace},
        "/openapi": {"GET": openapi},
    }
    return [
        *(Route(API_PREFIX + path, _by_method(handlers), methods=list(handlers)) for path, handlers in api.items()),
        Route(f"{SIM_PREFIX}/truth", sim_truth, methods=["GET"]),
        Route(f"{SIM_PREFIX}/advance", sim_advance, methods=["POST"]),
        Route(f"{SIM_PREFIX}/reset", sim_reset, methods=["POST"]),
        Route(f"{SIM_PREFIX}/faults", sim_faults, methods=["GET", "PUT", "DELETE"]),
        Route(f"{SIM_PREFIX}/requests", sim_requests, methods=["GET", "DELETE"]),
        Route(f"{SIM_PREFIX}/config", sim_config, methods=["GET", "PUT"]),
        Route(f"{SIM_PREFIX}/clock", sim_clock, methods=["GET"]),
    ]


def _by_method(handlers: dict[str, Handler]) -> Handler:
    """One endpoint for a path's methods (HEAD is answered as GET)."""
    async def endpoint(request: Request) -> Response:
        # the route has already answered 405 to any method not in `handlers` (and HEAD needs GET)
        return await (handlers.get(request.method) or handlers["GET"])(request)

    return endpoint


async def _body_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyError)
    return error_response(400, "validation_failed", exc.message, {"field": exc.field})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = error_response(405, "method_not_allowed", f"{request.method} is not served on {request.url.path}.")
        response.headers.update(exc.headers or {})  # Allow, as RFC 9110 asks
        return response
    return error_response(exc.status_code, "not_found", f"No such path: {request.url.path}.")


async def _crash(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal", f"The simulator failed: {type(exc).__name__}: {exc}")


def create_app(options: SimOptions) -> SimMiddleware:
    """The simulator as an ASGI app; `app.sim` is its state."""
    sim = SimState(options)
    starlette = Starlette(
        routes=_routes(),
        exception_handlers={
            ApiError: _api_error, BodyError: _body_error, HTTPException: _http_error, Exception: _crash,
        },
    )
    starlette.state.sim = sim
    return SimMiddleware(starlette, sim)
