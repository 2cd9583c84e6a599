"""The `/_sim` control handlers: ground truth, the clock, rebuilding the world, switches,
faults, poison and the log.

They are not part of Armature's API: no key, no rate limit, no dialect (always the armature
encoding), and they never show up in the request log.
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
from armature_sim.http.state import SimState, control_reply, sim_of
from armature_sim.poison import Poison, PoisonSpecError
from armature_sim.vocabulary import MINUTE, SWITCHES, SimOptions
from armature_sim.world.truth import counts, truth

_OPTIONS = {option.name for option in fields(SimOptions)}
_SIGNED = {"date_offset_s"}  # the one number option that may be below zero


async def sim_truth(request: Request) -> Response:
    """GET /_sim/truth: what the API serves now, for tests to compare with.

    It describes one instant, the `now` it reports: a running clock does not move while the
    truth is worked out.
    """
    sim = sim_of(request)
    served = truth(sim.world)
    head = {
        "now": served.pop("now"),
        "dialect": sim.dialect.name,
        "insights_enabled": sim.insights,
        "clock_speed": sim.clock.speed,
        "date_offset_s": sim.options.date_offset_s,
        "date_header": sim.date_header().decode(),
        "rate_limit": sim.limiter.describe(),
        "poison": sim.poison.describe(),
    }
    return control_reply({**head, **served})


async def sim_advance(request: Request) -> Response:
    """POST /_sim/advance {"minutes": N}: move the clock (a running clock runs on from there)."""
    body = await json_body(request)
    minutes = body.get("minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise invalid("minutes", "minutes must be a number >= 0.")
    sim = sim_of(request)
    report = sim.world.advance(round(minutes * MINUTE))
    sim.clock.rebase()
    return control_reply(asdict(report))


async def sim_reset(request: Request) -> Response:
    """POST /_sim/reset {options}: rebuild the world; omitted options keep the start options."""
    sim = sim_of(request)
    changes: dict[str, Any] = {}
    for name, value in (await json_body(request)).items():
        if name not in _OPTIONS:
            raise invalid(name, f"unknown option {name}.")
        changes[name] = _option(sim.start, name, value)
    options = replace(sim.start, **changes)
    try:
        sim.load(options)
    except PoisonSpecError as exc:
        raise invalid("poison", str(exc)) from None
    return control_reply({"now": sim.world.clock.now, "options": asdict(options), "counts": counts(sim.world)})


async def sim_config(request: Request) -> Response:
    """GET or PUT /_sim/config {switch: value}: switches that keep the world (`vocabulary.SWITCHES`)."""
    sim = sim_of(request)
    if request.method == "PUT":
        changes: dict[str, Any] = {}
        for name, value in (await json_body(request)).items():
            if name not in SWITCHES:
                raise invalid(name, f"{name} is not a switch; the switches are {', '.join(SWITCHES)}.")
            changes[name] = _option(sim.start, name, value)
        sim.configure(**changes)
    return control_reply(_switches(sim))


def _switches(sim: SimState) -> dict[str, Any]:
    """The switches as they are, with the dialect and the clock."""
    return {
        **{name: getattr(sim.options, name) for name in SWITCHES},
        "dialect": sim.dialect.name,
        "now": sim.world.clock.now,
    }


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
    if isinstance(default, tuple):
        return _items(name, value)
    whole = not isinstance(default, float)
    if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
        raise invalid(name, f"{name} must be a {'whole number' if whole else 'number'}.")
    if value < 0 and name not in _SIGNED:
        raise invalid(name, f"{name} must be >= 0.")
    return value if whole else float(value)


def _items(name: str, value: Any) -> tuple[Any, ...]:
    """A list option: poison rules are objects (checked when the world is built), ids strings."""
    kind = dict if name == "poison" else str
    if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
        raise invalid(name, f"{name} must be a list of {'objects' if kind is dict else 'strings'}.")
    return tuple(value)


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


async def sim_poison(request: Request) -> Response:
    """GET, POST (add), PUT (replace) or DELETE /_sim/poison {"rules": [...]}.

    A rule naming its record by `nth` comes back with the id it was resolved to, in `added`.
    """
    sim = sim_of(request)
    added: list[dict[str, Any]] = []
    if request.method in ("POST", "PUT"):
        try:
            rules = Poison.parse(sim.world, (await json_body(request)).get("rules"))
        except PoisonSpecError as exc:
            raise invalid("rules", str(exc)) from None
        if request.method == "PUT":
            sim.poison = Poison()
        sim.poison.add(rules)
        added = [rule.describe() for rule in rules]
    elif request.method == "DELETE":
        sim.poison = Poison()
    return control_reply({"rules": sim.poison.describe(), "added": added})


async def sim_requests(request: Request) -> Response:
    """GET or DELETE /_sim/requests: the log of API requests served."""
    sim = sim_of(request)
    if request.method == "DELETE":
        sim.requests.clear()
        return control_reply({"cleared": True})
    return control_reply(sim.logged())


async def sim_clock(request: Request) -> Response:
    """GET /_sim/clock: the simulated now and how fast it runs (0: frozen)."""
    sim = sim_of(request)
    return control_reply({"now": sim.world.clock.now, "speed": sim.clock.speed})
