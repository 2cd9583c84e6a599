"""What stands in front of every route: the simulated `Date`, and for API paths latency,
faults, the key, the insights switch and the request log."""

from __future__ import annotations

import asyncio

from armature_sim.faults import App, Message, Receive, Scope, Send, serve_fault
from armature_sim.http.auth import bearer_key
from armature_sim.http.errors import error_response
from armature_sim.http.state import SimState
from armature_sim.vocabulary import API_KEYS, API_PREFIX, OPENAPI_PATH

_INSIGHTS_PREFIX = f"{API_PREFIX}/insights"


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
        if path != OPENAPI_PATH and bearer_key(scope["headers"]) not in API_KEYS:
            response = error_response("unauthenticated", "Missing, malformed or unknown API key.")
            await response(scope, receive, send)
        elif path.startswith(_INSIGHTS_PREFIX) and not self.sim.insights:
            response = error_response("feature_disabled", "MCP Analytics is not enabled for this organization.")
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)
