"""The read handlers: every GET of the API. They only read the world and shape the answer.

Each answer names the kind of record it carries (`records=`), so that poison rules aimed at
that kind spoil it on every endpoint that serves it (`armature_sim.poison`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from armature_sim import envelopes
from armature_sim.http.auth import bearer_key
from armature_sim.http.dialect import ARMATURE
from armature_sim.http.errors import ApiError
from armature_sim.http.params import chosen, found, insight_range, limited, one_of, whole
from armature_sim.http.state import reply, sim_of
from armature_sim.openapi import build_openapi
from armature_sim.vocabulary import (
    API_KEYS,
    CLASSIFICATIONS,
    DEFAULT_KEY,
    DEFAULT_RUN_RANGE,
    PAGE_SIZE,
    RUN_RANGES,
    RUN_SORTS,
    RUN_STATUSES,
    SEARCH_LIMIT,
    SESSION_LIMIT,
    TOPIC_LIMIT,
    TOPIC_SORTS,
)
from armature_sim.world import World
from armature_sim.world.run_plan import RunPlan


def _world(request: Request) -> World:
    """The world the server serves now."""
    return sim_of(request).world


def _listing(request: Request, rows: list[Any], records: str, key: str = "rows", **paging: Any) -> Response:
    """A list envelope of `records` in the server's dialect."""
    return reply(request, sim_of(request).dialect.listing(key, rows, **paging), records=records)


def _with_children(request: Request) -> tuple[World, RunPlan]:
    """The world and the run the path names, if its children can be read now.

    A terminal run's children may come late or never (`LateChildren`): until then its
    trace, tool calls and evaluation answer 404 not_found, while the run itself is served.
    """
    world = _world(request)
    plan = found(world.runs.by_id, request)
    if not world.late_children.ready(plan, world.clock.now_ms):
        raise ApiError("not_found", f"The trace, tool calls and evaluation of run {plan.id} are not available.")
    return world, plan


async def org(request: Request) -> Response:
    """GET /org: the organization and the key's actor."""
    key_id, key_name, role = API_KEYS[bearer_key(request.scope["headers"]) or DEFAULT_KEY]
    body: envelopes.OrgResponse = {
        "organization": _world(request).catalog.organization.record(),
        "actor": {"apiKeyId": key_id, "apiKeyName": key_name, "userProfileId": None, "role": role, "email": None},
    }
    return reply(request, body)


async def mcp_servers(request: Request) -> Response:
    """GET /mcp-servers: production sources only."""
    return _listing(request, [s.record() for s in _world(request).catalog.listed_servers()], "mcp_server")


async def mcp_server(request: Request) -> Response:
    """GET /mcp-servers/{id}."""
    return reply(request, found(_world(request).catalog.mcp_servers, request).detail(), records="mcp_server")


async def workflows(request: Request) -> Response:
    """GET /workflows: archived workflows are left out (GET /workflows/{id} still serves them)."""
    return _listing(request, [w.record() for w in _world(request).catalog.listed_workflows()], "workflow")


async def workflow(request: Request) -> Response:
    """GET /workflows/{id}."""
    return reply(request, found(_world(request).catalog.workflows, request).record(), records="workflow")


async def runs(request: Request) -> Response:
    """GET /runs: filtered, sorted, paged by number."""
    sim = sim_of(request)
    query = request.query_params
    range_name = chosen(query, "range", RUN_RANGES, DEFAULT_RUN_RANGE)
    sort = chosen(query, "sort", RUN_SORTS, RUN_SORTS[0])
    page = whole(query, "page", 1)
    size = limited(query, "pageSize", PAGE_SIZE, cap=sim.dialect.page_cap)
    plans = sim.world.runs.listed(
        RUN_RANGES[range_name],
        workflow_id=query.get("workflowId") or None,
        status=one_of(query, "status", RUN_STATUSES, None),
        classification=one_of(query, "classification", CLASSIFICATIONS, None),
        search=query.get("search") or None,
        newest_first=sort == RUN_SORTS[0],
    )
    rows = [sim.world.runs.record(plan) for plan in plans[(page - 1) * size : page * size]]
    return _listing(request, rows, "run", page=page, pageSize=size, total=len(plans))


async def run(request: Request) -> Response:
    """GET /runs/{id}: the run plus judge_model and evaluator_output."""
    history = _world(request).runs
    return reply(request, history.detail(found(history.by_id, request)), records="run")


async def run_trace(request: Request) -> Response:
    """GET /runs/{id}/trace: the spans so far."""
    world, plan = _with_children(request)
    body: envelopes.RunTrace = {"run_id": plan.id, "spans": world.runs.trace(plan)}
    return reply(request, body, records="span")


async def run_tool_calls(request: Request) -> Response:
    """GET /runs/{id}/tool-calls: the tool calls so far."""
    world, plan = _with_children(request)
    return _listing(request, world.runs.tool_calls(plan), "tool_call")


async def run_evaluation(request: Request) -> Response:
    """GET /runs/{id}/evaluation: 404 evaluation_not_available until there is one."""
    world, plan = _with_children(request)
    evaluation = world.runs.evaluation(plan)
    if evaluation is None:
        why = f"it ended {plan.outcome}" if not plan.is_open(world.clock.now_ms) else "it is not terminal yet"
        raise ApiError("evaluation_not_available", f"Run {plan.id} has no evaluation: {why}.")
    return reply(request, evaluation, records="evaluation")


async def insights_overview(request: Request) -> Response:
    """GET /insights/overview."""
    name, _ = insight_range(request)
    return reply(request, _world(request).insights.overview(name))


async def insights_topics(request: Request) -> Response:
    """GET /insights/topics: topics active in the range, no paging beyond `limit`."""
    _, range_ms = insight_range(request)
    sort = chosen(request.query_params, "sort", TOPIC_SORTS, TOPIC_SORTS[0])
    limit = limited(request.query_params, "limit", TOPIC_LIMIT)
    return _listing(request, _world(request).insights.topics(range_ms, sort)[:limit], "topic")


async def insights_topic(request: Request) -> Response:
    """GET /insights/topics/{id}."""
    world = _world(request)
    _, range_ms = insight_range(request)
    return reply(request, world.insights.topic_detail(found(world.catalog.topics, request), range_ms), records="topic")


async def insights_searches(request: Request) -> Response:
    """GET /insights/searches: failed-search clusters seen in the range."""
    _, range_ms = insight_range(request)
    limit = limited(request.query_params, "limit", SEARCH_LIMIT)
    return _listing(request, _world(request).insights.failed_searches(range_ms)[:limit], "failed_search")


async def insights_search(request: Request) -> Response:
    """GET /insights/searches/{id}."""
    world = _world(request)
    _, range_ms = insight_range(request)
    detail = world.insights.search_detail(found(world.catalog.failed_searches, request), range_ms)
    return reply(request, detail, records="failed_search")


async def insights_sessions(request: Request) -> Response:
    """GET /insights/sessions: newest last event first, capped at `limit`."""
    sessions = _world(request).sessions
    _, range_ms = insight_range(request)
    limit = limited(request.query_params, "limit", SESSION_LIMIT)
    chosen_plans = sessions.listed(range_ms, request.query_params.get("intent") or None, limit)
    return _listing(request, [sessions.record(plan, seen) for plan, seen in chosen_plans], "session", key="sessions")


async def insights_session_trace(request: Request) -> Response:
    """GET /insights/sessions/{id}/trace: the events so far."""
    sim = sim_of(request)
    sessions = sim.world.sessions
    plan = found(sessions.by_id, request)
    body = {"session_id": plan.id, **sim.dialect.listing("events", sessions.events(plan))}
    return reply(request, body, records="event")


async def openapi(request: Request) -> Response:
    """GET /openapi: the document for the server's dialect (no auth), encoded once per dialect."""
    sim = sim_of(request)
    name = sim.dialect.name
    if name not in sim.openapi:
        sim.openapi[name] = ARMATURE.encode(build_openapi(name))
    return Response(sim.openapi[name], media_type="application/json")
