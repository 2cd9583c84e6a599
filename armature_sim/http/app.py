"""The simulator as an ASGI app: every route, one per path, behind `SimMiddleware`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from armature_sim.http import reads, sim_controls, writes
from armature_sim.http.errors import EXCEPTION_HANDLERS
from armature_sim.http.middleware import SimMiddleware
from armature_sim.http.state import SimState
from armature_sim.vocabulary import API_PREFIX, SIM_PREFIX, SimOptions

Handler = Callable[[Request], Awaitable[Response]]

# path under the API prefix -> method -> handler
API_ROUTES: dict[str, dict[str, Handler]] = {
    "/org": {"GET": reads.org},
    "/mcp-servers": {"GET": reads.mcp_servers, "POST": writes.create_mcp_server},
    "/mcp-servers/{id}": {"GET": reads.mcp_server},
    "/workflows": {"GET": reads.workflows, "POST": writes.create_workflow},
    "/workflows/{id}": {"GET": reads.workflow, "PATCH": writes.update_workflow, "DELETE": writes.archive_workflow},
    "/workflows/{id}/runs": {"POST": writes.dispatch_workflow},
    "/runs": {"GET": reads.runs},
    "/runs/{id}": {"GET": reads.run},
    "/runs/{id}/trace": {"GET": reads.run_trace},
    "/runs/{id}/tool-calls": {"GET": reads.run_tool_calls},
    "/runs/{id}/evaluation": {"GET": reads.run_evaluation},
    "/insights/overview": {"GET": reads.insights_overview},
    "/insights/topics": {"GET": reads.insights_topics},
    "/insights/topics/{id}": {"GET": reads.insights_topic, "PATCH": writes.update_topic},
    "/insights/searches": {"GET": reads.insights_searches},
    "/insights/searches/{id}": {"GET": reads.insights_search},
    "/insights/sessions": {"GET": reads.insights_sessions},
    "/insights/sessions/{id}/trace": {"GET": reads.insights_session_trace},
    "/openapi": {"GET": reads.openapi},
}
# path under the control prefix -> method -> handler
SIM_ROUTES: dict[str, dict[str, Handler]] = {
    "/truth": {"GET": sim_controls.sim_truth},
    "/advance": {"POST": sim_controls.sim_advance},
    "/reset": {"POST": sim_controls.sim_reset},
    "/faults": dict.fromkeys(("GET", "PUT", "DELETE"), sim_controls.sim_faults),
    "/poison": dict.fromkeys(("GET", "POST", "PUT", "DELETE"), sim_controls.sim_poison),
    "/requests": dict.fromkeys(("GET", "DELETE"), sim_controls.sim_requests),
    "/config": dict.fromkeys(("GET", "PUT"), sim_controls.sim_config),
    "/clock": {"GET": sim_controls.sim_clock},
}


def routes() -> list[Route]:
    """Every route: one per path, so that a 405 names all of the path's methods in `Allow`."""
    return [
        Route(prefix + path, _by_method(handlers), methods=list(handlers))
        for prefix, table in ((API_PREFIX, API_ROUTES), (SIM_PREFIX, SIM_ROUTES))
        for path, handlers in table.items()
    ]


def _by_method(handlers: dict[str, Handler]) -> Handler:
    """One endpoint for a path's methods (HEAD is answered as GET)."""
    async def endpoint(request: Request) -> Response:
        # the route has already answered 405 to any method not in `handlers` (and HEAD needs GET)
        return await (handlers.get(request.method) or handlers["GET"])(request)

    return endpoint


def create_app(options: SimOptions) -> SimMiddleware:
    """The simulator as an ASGI app; `app.sim` is its state."""
    sim = SimState(options)
    starlette = Starlette(routes=routes(), exception_handlers=EXCEPTION_HANDLERS)
    starlette.state.sim = sim
    return SimMiddleware(starlette, sim)
