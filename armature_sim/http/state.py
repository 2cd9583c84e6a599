"""What one server holds (the world, the switches, the faults, the poison, the logs), and answering from it.

Handlers reach the state with `sim_of(request)` and answer with `reply` (the server's
dialect, poisoned where a rule says) or `control_reply` (the `/_sim` controls, always the
armature dialect).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from armature_sim.faults import FaultRule, Faults, Scope
from armature_sim.http.dialect import ARMATURE, DIALECTS
from armature_sim.http.rate_limit import LIMITED, RateLimiter
from armature_sim.http.running_clock import RunningClock
from armature_sim.poison import Poison
from armature_sim.vocabulary import SECOND, SimOptions
from armature_sim.world import World
from armature_sim.world.clock import instant
from armature_sim.world.late_children import LateChildren

REQUEST_LOG_LIMIT = 500_000


class SimState:
    """The world, the switches and the logs one server holds."""

    def __init__(self, start: SimOptions) -> None:
        self.start = start
        self.requests: deque[tuple[str, str, str, int | None, int, str | None, bool]] = deque(
            maxlen=REQUEST_LOG_LIMIT
        )
        self.openapi: dict[str, bytes] = {}
        self._date: tuple[int, bytes] = (-1, b"")  # (the second shown, its header)
        self.load(start)

    def load(self, options: SimOptions) -> None:
        """Rebuild the world from the seed, clear faults and the request log, set the switches.

        Raises:
            PoisonSpecError: a poison rule of `options` that cannot be used; nothing changed.
        """
        world = World(options)
        poison = Poison(Poison.parse(world, options.poison))
        self.world, self.poison = world, poison
        self.dialect = DIALECTS[options.dialect]
        self.faults = Faults(options.seed)
        self.options = options
        self.clock = RunningClock(world, options.clock_speed)
        self.limiter = RateLimiter(options.rate_limit_rps, options.rate_limit_burst)
        self._switch(options)
        self.requests.clear()

    def configure(self, **switches: Any) -> None:
        """Change switches (`vocabulary.SWITCHES`) and keep the world; a new limit starts full buckets."""
        options = replace(self.options, **switches)
        if (options.rate_limit_rps, options.rate_limit_burst) != (self.options.rate_limit_rps,
                                                                     self.options.rate_limit_burst):
            self.limiter = RateLimiter(options.rate_limit_rps, options.rate_limit_burst)
        self.clock.rebase(options.clock_speed)
        self.options = options
        self._switch(options)

    def _switch(self, options: SimOptions) -> None:
        """Set what the middleware and the handlers read on every request."""
        self.insights = options.insights
        self.latency_ms = options.latency_ms
        self.date_offset_ms = options.date_offset_s * SECOND
        self.world.late_children = LateChildren.of(options.children_delay_minutes, options.children_missing_run_ids)

    def date_header(self) -> bytes:
        """`Date` for the simulated now plus the Date offset, RFC 7231 format (whole seconds)."""
        second = (self.world.clock.now_ms + self.date_offset_ms) // SECOND
        if self._date[0] != second:
            self._date = (second, format_datetime(instant(second * SECOND), usegmt=True).encode())
        return self._date[1]

    def log(self, scope: Scope, status: int | None, fault: FaultRule | None) -> None:
        """Remember one API request."""
        query = scope.get("query_string", b"").decode("latin-1")
        kind = fault.kind if fault else None
        limited = scope.get(LIMITED, False)
        self.requests.append((scope["method"], scope["path"], query, status, self.world.clock.now_ms, kind, limited))

    def logged(self) -> list[dict[str, Any]]:
        """The request log as `/_sim/requests` serves it."""
        return [
            {"method": m, "path": p, "query": q, "status": s, "at": instant(at), "fault": f, "rate_limited": r}
            for m, p, q, s, at, f, r in self.requests
        ]


def sim_of(request: Request) -> SimState:
    """The state behind this app."""
    sim: SimState = request.app.state.sim
    return sim


def reply(request: Request, body: Any, status: int = 200, records: str | None = None) -> Response:
    """A JSON answer in the server's dialect; `records` names the kind of record the body carries.

    A body whose kind a poison rule aims at goes through the poison (`armature_sim.poison`).
    """
    sim = sim_of(request)
    if records is not None and sim.poison.aims_at(records):
        content = sim.poison.encode(records, body, sim.dialect)
    else:
        content = sim.dialect.encode(body)
    return Response(content, status_code=status, media_type="application/json")


def control_reply(body: Any, status: int = 200) -> Response:
    """A `/_sim` answer (always the armature dialect)."""
    return Response(ARMATURE.encode(body), status_code=status, media_type="application/json")
