"""Faults on demand: rules that make API requests fail the ways real hosts and proxies do.

A rule, as `PUT /_sim/faults` takes it::

    {"kind": "429", "path": "/runs/[^/]+/trace$", "method": "GET",
     "rate": 0.25, "times": 5, "retry_after": "date"}

`kind` is one of `KINDS`; `path` is a regex searched in the request path; `rate` fires with
that probability (a seeded generator, so a run of requests fails the same way twice) and
`nth` fires only on the nth matching request (1-based); with neither, every match fires.
`times` caps how often a rule fires. `slow` sleeps `delay_ms` and lets the request go on;
every other kind answers instead of the API.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from starlette.responses import Response

from armature_sim.world.seeding import seeded

KINDS = ("429", "500", "502", "503", "504", "slow", "cut", "bad_json", "not_found")
_RULE_KEYS = {"kind", "path", "method", "rate", "nth", "times", "retry_after", "delay_ms"}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
JsonError = Callable[[str, str], Response]  # (error code, message) -> the documented error body

_PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {"502": "Bad Gateway", "503": "Service Temporarily Unavailable", "504": "Gateway Time-out"}


class FaultSpecError(ValueError):
    """A fault rule that cannot be used; the message names the bad field."""


@dataclass
class FaultRule:
    """One validated rule with its counters."""

    kind: str
    path: re.Pattern[str]
    method: str | None = None
    rate: float | None = None
    nth: int | None = None
    times: int | None = None
    retry_after: str = "1"
    delay_ms: int = 1000
    matched: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether the request is one this rule is about."""
        return (self.method is None or self.method == method) and self.path.search(path) is not None

    def describe(self) -> dict[str, Any]:
        """The rule as given, plus how often it matched and fired."""
        return {
            "kind": self.kind,
            "path": self.path.pattern,
            "method": self.method,
            "rate": self.rate,
            "nth": self.nth,
            "times": self.times,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "matched": self.matched,
            "fired": self.fired,
        }


def parse_rule(spec: Any) -> FaultRule:
    """Validate one rule from `PUT /_sim/faults`.

    Raises:
        FaultSpecError: an unknown key or kind, a bad regex, or a number out of range.
    """
    if not isinstance(spec, dict):
        raise FaultSpecError("a rule must be an object")
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise FaultSpecError(f"unknown rule keys: {sorted(unknown)}")
    kind = str(spec.get("kind", ""))
    if kind not in KINDS:
        raise FaultSpecError(f"kind must be one of {list(KINDS)}, not {kind!r}")
    try:
        path = re.compile(str(spec.get("path", "")))
    except re.error as exc:
        raise FaultSpecError(f"path is not a regex: {exc}") from exc
    rate, nth, times = spec.get("rate"), spec.get("nth"), spec.get("times")
    if rate is not None and nth is not None:
        raise FaultSpecError("give rate or nth, not both")
    if rate is not None and not (isinstance(rate, int | float) and 0 <= rate <= 1):
        raise FaultSpecError("rate must be a number from 0 to 1")
    for name, value in (("nth", nth), ("times", times), ("delay_ms", spec.get("delay_ms", 0))):
        if value is not None and not (isinstance(value, int) and value >= 0):
            raise FaultSpecError(f"{name} must be a whole number >= 0")
    retry_after = str(spec.get("retry_after", "1"))
    if retry_after != "date" and not retry_after.isdigit():
        raise FaultSpecError('retry_after must be whole seconds (e.g. "2") or "date"')
    method = spec.get("method")
    return FaultRule(
        kind=kind,
        path=path,
        method=str(method).upper() if method else None,
        rate=float(rate) if rate is not None else None,
        nth=nth,
        times=times,
        retry_after=retry_after,
        delay_ms=int(spec.get("delay_ms", 1000)),
    )


class Faults:
    """The rules in force and the seeded generator behind their rates."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rules: list[FaultRule] = []
        self._rng = seeded(seed, "faults")

    def replace(self, specs: Any) -> None:
        """Put `specs` in force (all or nothing) and restart counters and the generator."""
        if not isinstance(specs, list):
            raise FaultSpecError("rules must be a list")
        self.rules = [parse_rule(spec) for spec in specs]
        self._rng = seeded(self.seed, "faults")

    def clear(self) -> None:
        """Remove every rule."""
        self.replace([])

    def describe(self) -> list[dict[str, Any]]:
        """Every rule with its counters."""
        return [rule.describe() for rule in self.rules]

    def pick(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Decide what happens to one request: milliseconds to stall, and the rule that answers.

        Rules are tried in order; `slow` rules add their delay and the search goes on, the
        first other rule that fires answers the request.
        """
        delay = 0
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            rule.matched += 1
            if not self._fires(rule):
                continue
            rule.fired += 1
            if rule.kind != "slow":
                return delay, rule
            delay += rule.delay_ms
        return delay, None

    def _fires(self, rule: FaultRule) -> bool:
        """Whether a matching rule fires this time."""
        if rule.times is not None and rule.fired >= rule.times:
            return False
        if rule.nth is not None:
            return rule.matched == rule.nth
        if rule.rate is not None:
            return self._rng.random() < rule.rate
        return True


async def serve_fault(rule: FaultRule, scope: Scope, receive: Receive, send: Send, app: App,
                      json_error: JsonError) -> None:
    """Answer a request the way `rule` says instead of (or, for bad_json, on top of) the API."""
    if rule.kind == "cut":
        await _cut(send)
    elif rule.kind == "bad_json":
        await _truncated(scope, receive, send, app)
    elif rule.kind == "429":
        response = json_error("rate_limited", "Too many requests; slow down and retry later.")
        response.headers["Retry-After"] = _retry_after(rule.retry_after)
        await response(scope, receive, send)
    elif rule.kind == "500":
        await json_error("internal", "Something went wrong on our side.")(scope, receive, send)
    elif rule.kind == "not_found":
        await json_error("not_found", "No such resource.")(scope, receive, send)
    else:
        page = _PROXY_PAGE.format(status=rule.kind, reason=_REASONS[rule.kind])
        await Response(page, status_code=int(rule.kind), media_type="text/html")(scope, receive, send)


def _retry_after(value: str) -> str:
    """Seconds as given, or an HTTP date two seconds after the real clock (clients sleep on it)."""
    if value == "date":
        return formatdate(time.time() + 2, usegmt=True)
    return value


async def _cut(send: Send) -> None:
    """Start a response and stop mid-body; the server then drops the connection."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
    await send({"type": "http.response.body", "body": b'{"rows": [{"id": "', "more_body": True})


async def _truncated(scope: Scope, receive: Receive, send: Send, app: App) -> None:
    """Serve the real answer as a 200 whose JSON body stops halfway."""
    parts: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, keep)
    body = b"".join(parts)
    await Response(body[: max(1, len(body) // 2)], media_type="application/json")(scope, receive, send)
