"""The `armature-sim` command: serve a seeded Armature API simulator on a local port."""

from __future__ import annotations

import argparse
from datetime import datetime

from armature_sim.http.dialect import DIALECTS
from armature_sim.server import serve
from armature_sim.vocabulary import DEFAULT_NOW, SimOptions


def _moment(text: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` allowed)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-11-28T12:00:00Z")
    return moment


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="armature-sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3000, help="runs in the history")
    parser.add_argument("--days", type=int, default=30, help="days of run history")
    parser.add_argument("--sessions", type=int, default=2000, help="MCP sessions over 90 days")
    parser.add_argument("--dialect", choices=DIALECTS, default="armature")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API request")
    parser.add_argument("--no-insights", action="store_true", help="MCP Analytics off: insights answer 403")
    parser.add_argument("--now", type=_moment, default=DEFAULT_NOW, help="the frozen clock's start")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run `armature-sim`."""
    args = parse_args(argv)
    options = SimOptions(
        seed=args.seed,
        runs=args.runs,
        days=args.days,
        sessions=args.sessions,
        dialect=args.dialect,
        insights=not args.no_insights,
        latency_ms=args.latency_ms,
        now=args.now,
    )
    serve(options, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
