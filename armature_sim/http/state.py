"""What one server holds (the world, the switches, the faults, the logs), and answering from it.

Handlers reach the state with `sim_of(request)` and answer with `reply` (the server's
dialect) or `control_reply` (the `/_sim` controls, always the armature dialect).
"""

from __future__ import annotations

from collections import deque
from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from armature_sim.faults import Faults, FaultRule, Scope
from armature_sim.http.dialect import ARMATURE, DIALECTS
from armature_sim.vocabulary import SimOptions
from armature_sim.world import World
from armature_sim.world.clock import instant

REQUEST_LOG_LIMIT = 500_000


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
