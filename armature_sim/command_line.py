"""The `armature-sim` command line, both ways: flags to options, and options back to flags.

`__main__` reads it; `server.spawn` writes it to start a simulator subprocess. Every default
is `SimOptions`'s, so the command line, `spawn` and `/_sim/reset` cannot disagree.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from datetime import datetime

from armature_sim.http.dialect import DIALECTS
from armature_sim.vocabulary import DEFAULT_HOST, DEFAULT_PORT, SimOptions

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


def parse_args(argv: list[str] | None = None, description: str | None = None) -> Invocation:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="armature-sim", description=description)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument("--runs", type=int, default=_DEFAULTS.runs, help="runs in the history")
    parser.add_argument("--days", type=int, default=_DEFAULTS.days, help="days of run history")
    parser.add_argument("--sessions", type=int, default=_DEFAULTS.sessions, help="MCP sessions over 90 days")
    parser.add_argument("--dialect", choices=DIALECTS, default=_DEFAULTS.dialect)
    parser.add_argument("--latency-ms", type=int, default=_DEFAULTS.latency_ms, help="added to every API request")
    parser.add_argument("--no-insights", dest="insights", action="store_false",
                        help="MCP Analytics off: insights answer 403")
    parser.add_argument("--now", type=moment, default=_DEFAULTS.now, help="the frozen clock's start")
    args = parser.parse_args(argv)
    options = SimOptions(**{option.name: getattr(args, option.name) for option in fields(SimOptions)})
    return Invocation(options, args.host, args.port)


def flags(options: SimOptions) -> list[str]:
    """The command-line flags that ask for `options`."""
    argv = [
        "--seed", str(options.seed), "--runs", str(options.runs), "--days", str(options.days),
        "--sessions", str(options.sessions), "--dialect", options.dialect, "--latency-ms", str(options.latency_ms),
        "--now", options.now.isoformat(),
    ]
    return argv if options.insights else [*argv, "--no-insights"]
