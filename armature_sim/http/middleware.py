"""What stands in front of every route: the running clock and the simulated `Date`, and for API
paths latency, faults, the key, the rate limit, the insights switch and the request log."""

from __future__ import annotations

import asyncio

from armature_sim.faults import App, Message, Receive, Scope, Send, serve_fault
from armature_sim.http.auth import bearer_key
from armature_sim.http.errors import error_response
from armature_sim.http.rate_limit import LIMITED
from armature_sim.http.state import SimState
from armature_sim.vocabulary import API_KEYS, API_PREFIX, OPENAPI_PATH

_INSIGHTS_PREFIX = f"{API_PREFIX}/insights"


class SimMiddleware:
    """Date header on everything; latency, faults, auth, limits, the insights switch and the log on the API."""

    def __init__(self, app: App, sim: SimState) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim
        status: list[int | None] = [None]

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", sim.date_header())]}
            await send(message)

        if not scope["path"].startswith(API_PREFIX):
            sim.clock.tick()
            await self.app(scope, receive, dated)
            return
        delay, fault = sim.faults.pick(scope["method"], scope["path"])
        delay += sim.latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        # the world is caught up once, as the answer starts, so a request sees one instant
        sim.clock.tick()
        try:
            if fault is None:
                await self._gate(scope, receive, dated)
            else:
                await serve_fault(fault, scope, receive, dated, self._gate, error_response)
        finally:
            sim.log(scope, None if fault and fault.kind == "cut" else status[0], fault)

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what the key, its rate limit or the insights switch does not allow, pass the rest on."""
        path, sim = scope["path"], self.sim
        key = bearer_key(scope["headers"])
        if path == OPENAPI_PATH:
            await self.app(scope, receive, send)
        elif key not in API_KEYS:
            response = error_response("unauthenticated", "Missing, malformed or unknown API key.")
            await response(scope, receive, send)
        elif sim.limiter.active and (wait := sim.limiter.take(key)):
            scope[LIMITED] = True
            response = error_response("rate_limited", "Too many requests for this API key; retry after Retry-After.")
            response.headers["Retry-After"] = sim.limiter.retry_after(wait)
            await response(scope, receive, send)
        elif path.startswith(_INSIGHTS_PREFIX) and not sim.insights:
            response = error_response("feature_disabled", "MCP Analytics is not enabled for this organization.")
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)
