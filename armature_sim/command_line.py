"""The `armature-sim` command line, both ways: flags to options, and options back to flags.

`__main__` reads it; `server.spawn` writes it to start a simulator subprocess. Every default
is `SimOptions`'s, so the command line, `spawn` and `/_sim/reset` cannot disagree; each
option's flag is its name with dashes (`rate_limit_rps` is `--rate-limit-rps`).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from armature_sim.http.dialect import DIALECTS
from armature_sim.vocabulary import DEEP_JSON_DEPTH, DEFAULT_HOST, DEFAULT_PORT, SimOptions

_DEFAULTS = SimOptions()


@dataclass(frozen=True)
class Invocation:
    """What one `armature-sim` command asks for: the simulator, and where to serve it."""

    options: SimOptions
    host: str
    port: int


def moment(text: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` allowed)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-11-28T12:00:00Z")
    return parsed


def _at_least_zero(kind: type) -> Any:
    """An argparse type: a number of `kind` that is not negative."""
    def parse(text: str) -> Any:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _ids(text: str) -> tuple[str, ...]:
    """Comma-separated ids."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _rules(text: str) -> tuple[dict[str, Any], ...]:
    """A JSON list of poison rules (checked when the world is built)."""
    try:
        rules = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--poison is not JSON: {exc}") from None
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise argparse.ArgumentTypeError("--poison must be a JSON list of rule objects")
    return tuple(rules)


def parse_args(argv: list[str] | None = None, description: str | None = None) -> Invocation:
    """Read the command line."""
    d = _DEFAULTS
    parser = argparse.ArgumentParser(prog="armature-sim", description=description)
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST)
    add("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    add("--seed", type=int, default=d.seed)
    add("--runs", type=int, default=d.runs, help="runs in the history")
    add("--days", type=int, default=d.days, help="days of run history")
    add("--sessions", type=int, default=d.sessions, help="MCP sessions over 90 days")
    add("--dialect", choices=DIALECTS, default=d.dialect)
    add("--latency-ms", type=_at_least_zero(int), default=d.latency_ms, help="added to every API request")
    add("--no-insights", dest="insights", action="store_false", help="MCP Analytics off: insights answer 403")
    add("--now", type=moment, default=d.now, help="the clock's start")
    add("--clock-speed", type=_at_least_zero(float), default=d.clock_speed, metavar="X",
        help=f"the clock runs on its own, X simulated seconds per real second (default {d.clock_speed:g}: frozen)")
    add("--rate-limit-rps", type=_at_least_zero(float), default=d.rate_limit_rps, metavar="R",
        help=f"a token bucket per API key, R requests a second; empty answers 429 with Retry-After "
             f"(default {d.rate_limit_rps:g}: no limit)")
    add("--rate-limit-burst", type=_at_least_zero(int), default=d.rate_limit_burst, metavar="N",
        help=f"the bucket's size (default {d.rate_limit_burst}: one second's worth, at least 1)")
    add("--date-offset-s", type=int, default=d.date_offset_s, metavar="N",
        help=f"shift the Date header by N seconds, the clock and data stay put (default {d.date_offset_s})")
    add("--children-delay-minutes", type=_at_least_zero(float), default=d.children_delay_minutes, metavar="N",
        help="a terminal run's trace, tool calls and evaluation answer 404 until N minutes after it ended "
             f"(default {d.children_delay_minutes:g})")
    add("--children-missing-run-ids", type=_ids, default=d.children_missing_run_ids, metavar="ID,...",
        help="terminal runs whose trace, tool calls and evaluation never appear")
    add("--poison", type=_rules, default=d.poison, metavar="JSON",
        help="a JSON list of poison rules, e.g. "
             '\'[{"kind": "huge_int", "record": "run", "nth": 1}]\' (deep_json nests '
             f"{DEEP_JSON_DEPTH} deep unless a rule says)")
    args = parser.parse_args(argv)
    options = SimOptions(**{option.name: getattr(args, option.name) for option in fields(SimOptions)})
    return Invocation(options, args.host, args.port)


def flags(options: SimOptions) -> list[str]:
    """The command-line flags that ask for `options` (an empty list option is left out)."""
    argv: list[str] = []
    for option in fields(SimOptions):
        value = getattr(options, option.name)
        if option.name == "insights":
            argv += [] if value else ["--no-insights"]
        elif isinstance(value, tuple | list):
            if value:
                text = json.dumps(list(value)) if option.name == "poison" else ",".join(value)
                argv += [f"--{option.name.replace('_', '-')}", text]
        else:
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            argv += [f"--{option.name.replace('_', '-')}", text]
    return argv
