"""The `/_sim` control handlers: ground truth, the clock, rebuilding the world, faults, the log.

They are not part of Armature's API: no key, no dialect (always the armature encoding), and
they never show up in the request log.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from armature_sim.faults import FaultSpecError
from armature_sim.http.dialect import DIALECTS
from armature_sim.http.errors import invalid
from armature_sim.http.params import json_body
from armature_sim.http.state import control_reply, sim_of
from armature_sim.vocabulary import MINUTE, SimOptions
from armature_sim.world.truth import counts, truth

_OPTIONS = {option.name for option in fields(SimOptions)}


async def sim_truth(request: Request) -> Response:
    """GET /_sim/truth: what the API serves now, for tests to compare with."""
    sim = sim_of(request)
    served = truth(sim.world)
    head = {"now": served.pop("now"), "dialect": sim.dialect.name, "insights_enabled": sim.insights}
    return control_reply({**head, **served})


async def sim_advance(request: Request) -> Response:
    """POST /_sim/advance {"minutes": N}: move the clock."""
    body = await json_body(request)
    minutes = body.get("minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise invalid("minutes", "minutes must be a number >= 0.")
    return control_reply(asdict(sim_of(request).world.advance(round(minutes * MINUTE))))


async def sim_reset(request: Request) -> Response:
    """POST /_sim/reset {options}: rebuild the world; omitted options keep the start options."""
    sim = sim_of(request)
    changes: dict[str, Any] = {}
    for name, value in (await json_body(request)).items():
        if name not in _OPTIONS:
            raise invalid(name, f"unknown option {name}.")
        changes[name] = _option(sim.start, name, value)
    options = replace(sim.start, **changes)
    sim.load(options)
    return control_reply({"now": sim.world.clock.now, "options": asdict(options), "counts": counts(sim.world)})


async def sim_config(request: Request) -> Response:
    """GET or PUT /_sim/config {"latency_ms", "insights"}: switches that keep the world."""
    sim = sim_of(request)
    if request.method == "PUT":
        body = await json_body(request)
        latency, insights = body.get("latency_ms"), body.get("insights")
        if latency is not None:
            sim.latency_ms = _option(sim.start, "latency_ms", latency)
        if insights is not None:
            sim.insights = _option(sim.start, "insights", insights)
    return control_reply({"latency_ms": sim.latency_ms, "insights": sim.insights, "dialect": sim.dialect.name})


def _option(start: SimOptions, name: str, value: Any) -> Any:
    """One option from a control body, checked against the kind of its default."""
    default = getattr(start, name)
    if isinstance(default, datetime):
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise invalid(name, f"{name} must be an ISO 8601 time.") from None
        if moment.tzinfo is None:
            raise invalid(name, f"{name} must carry a time zone.")
        return moment
    if name == "dialect":
        if value not in DIALECTS:
            raise invalid(name, f"dialect must be one of {', '.join(DIALECTS)}.")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise invalid(name, f"{name} must be true or false.")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(name, f"{name} must be a whole number >= 0.")
    return value


async def sim_faults(request: Request) -> Response:
    """GET, PUT or DELETE /_sim/faults."""
    faults = sim_of(request).faults
    if request.method == "PUT":
        try:
            faults.replace((await json_body(request)).get("rules"))
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


async def sim_clock(request: Request) -> Response:
    """GET /_sim/clock."""
    return control_reply({"now": sim_of(request).world.clock.now})
