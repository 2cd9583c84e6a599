"""The write handlers: check the key's role, the path's id and the body, then ask the world to change.

A viewer key is refused before its body is read; a body is checked whole (`bodies`) before
anything changes, so a refused write changes nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from armature_sim import envelopes
from armature_sim.http.auth import bearer_key, role_of
from armature_sim.http.bodies import dispatch_draft, server_draft, topic_changes, workflow_changes, workflow_draft
from armature_sim.http.errors import ApiError, invalid
from armature_sim.http.params import found, json_body, referenced
from armature_sim.http.state import reply, sim_of
from armature_sim.vocabulary import DEFAULT_INSIGHT_RANGE, INSIGHT_RANGES, WRITE_ROLES
from armature_sim.world import World
from armature_sim.world.catalog import Workflow


def writable(request: Request) -> World:
    """The world, if the key may write; a viewer key is refused with 403 forbidden_role."""
    role = role_of(bearer_key(request.scope["headers"]))
    if role not in WRITE_ROLES:
        raise ApiError(
            "forbidden_role",
            f"{request.method} {request.url.path} needs an editor, admin or owner key; this key is {role}.",
            {"role": role, "allowed": list(WRITE_ROLES)},
        )
    return sim_of(request).world


def not_archived(workflow: Workflow) -> Workflow:
    """The workflow, unless it is archived (it can then only be read)."""
    if not workflow.live:
        raise invalid("id", f"Workflow {workflow.id} is archived; it can be read but not changed or run.")
    return workflow


async def create_mcp_server(request: Request) -> Response:
    """POST /mcp-servers: 201 with the new source and its tools."""
    world = writable(request)
    server = world.edits.create_server(server_draft(await json_body(request)))
    return reply(request, server.detail(), 201)


async def create_workflow(request: Request) -> Response:
    """POST /workflows: 201 with the new workflow at version 1."""
    world = writable(request)
    draft = workflow_draft(await json_body(request))
    server = referenced(world.catalog.mcp_servers, draft["mcp_server_id"], "mcpServerId", "MCP source")
    return reply(request, world.edits.create_workflow(draft, server).record(), 201)


async def update_workflow(request: Request) -> Response:
    """PATCH /workflows/{id}: a new version, returned in `current_version`."""
    world = writable(request)
    workflow = found(world.catalog.workflows, request)
    changes = workflow_changes(await json_body(request))
    server = None
    if "mcp_server_id" in changes:
        server = referenced(world.catalog.mcp_servers, changes["mcp_server_id"], "mcpServerId", "MCP source")
    world.edits.update_workflow(not_archived(workflow), changes, server)
    return reply(request, workflow.record())


async def archive_workflow(request: Request) -> Response:
    """DELETE /workflows/{id}: archives (again is fine); {"ok": true}."""
    world = writable(request)
    world.edits.archive_workflow(found(world.catalog.workflows, request))
    body: envelopes.OkResponse = {"ok": True}
    return reply(request, body)


async def dispatch_workflow(request: Request) -> Response:
    """POST /workflows/{id}/runs: 202 with {"run": Run}, one run with the first tester model."""
    world = writable(request)
    workflow = found(world.catalog.workflows, request)
    draft = dispatch_draft(await json_body(request))
    if draft.baseline_run_id is not None:
        referenced(world.runs.by_id.values(), draft.baseline_run_id, "baselineRunId", "run")
    plan = world.edits.dispatch(not_archived(workflow), draft)
    body: envelopes.DispatchResponse = {"run": world.runs.record(plan)}
    return reply(request, body, 202)


async def update_topic(request: Request) -> Response:
    """PATCH /insights/topics/{id}: label and flags; answers the topic as GET does (default range)."""
    world = writable(request)
    topic = found(world.catalog.topics, request)
    world.edits.edit_topic(topic, topic_changes(await json_body(request)))
    return reply(request, world.insights.topic_detail(topic, INSIGHT_RANGES[DEFAULT_INSIGHT_RANGE]))
