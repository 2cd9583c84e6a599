"""The `armature-pipeline` command: run, status, check, demo, dashboard.

Exit codes (schedulers depend on them): 0 loaded; 1 the load failed; 2 bad usage or
configuration (nothing written); 3 another run of the same pipeline holds the lock.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from pipelines import sql_shell
from pipelines.settings import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, LockedError, UsageError

def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    from pipelines import commands  # dlt is heavy: import it after argument parsing

    from dlt.common.configuration.exceptions import ConfigurationException
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    try:
        return int(args.handler(commands, args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except TomlProviderReadException as exc:
        print(f"error: a dlt settings file cannot be read: {exc}. Fix the TOML syntax there "
              "(strings in double quotes, one `key = value` a line); nothing was loaded.",
              file=sys.stderr)
        return EXIT_CONFIG
    except ConfigurationException as exc:  # a setting dlt cannot resolve or convert
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        print("interrupted: nothing half-written is kept; run again to finish.", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="armature-pipeline", description="Load Armature's REST API into a warehouse with dlt."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="load (incrementally) into the destination")
    _source_flags(run)
    _target_flags(run)
    run.add_argument("--resources", help="comma-separated resources or tables to load")
    run.add_argument("--full-refresh", action="store_true",
                     help="load everything again, swapped in for the old tables only on success")
    _org_flags(run)
    run.set_defaults(handler=lambda c, a: c.run(a))

    status = sub.add_parser("status", help="cursors, last load, row counts, coverage warnings")
    _target_flags(status)
    _org_flags(status)
    status.set_defaults(handler=lambda c, a: c.status(a))

    check = sub.add_parser("check", help="key smoke test and live /openapi contract check")
    _source_flags(check)
    check.set_defaults(handler=lambda c, a: c.check(a))

    demo = sub.add_parser("demo", help="load a local simulator into armature_demo.duckdb")
    demo.add_argument("--runs", type=int, default=3000, help="runs in the simulated world")
    demo.add_argument("--latency-ms", type=int, default=0)
    demo.set_defaults(handler=lambda c, a: c.demo(a))

    sql_shell.add_parser(sub)

    board = sub.add_parser("dashboard", help="the reporting dashboard over the warehouse, read-only")
    board.add_argument("--duckdb", help="DuckDB file (default armature.duckdb; env ARMATURE_DUCKDB)")
    board.add_argument("--dataset", help="dataset name (default armature_data; env ARMATURE_DATASET)")
    board.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    board.add_argument("--port", type=int, default=2718, help="port (default 2718; 0 picks a free one)")
    board.add_argument("--export", metavar="FILE.html", help="write one static HTML file and exit")
    board.set_defaults(handler=lambda c, a: importlib.import_module("pipelines.dashboard").run(a))
    return parser


def _source_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="dashboard URL or REST base (env ARMATURE_BASE_URL)")
    parser.add_argument("--api-key", help="amt_<key-id>_<secret> (env ARMATURE_API_KEY)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="permit plain http to a host that is not loopback")


def _org_flags(parser: argparse.ArgumentParser) -> None:
    orgs = parser.add_mutually_exclusive_group()
    orgs.add_argument("--org", metavar="SLUG",
                      help="the organization of [armature.orgs.SLUG] (pipeline armature_SLUG)")
    orgs.add_argument("--all-orgs", action="store_true",
                      help="every configured organization in turn, each its own pipeline")


def _target_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--destination", default=None, help="dlt destination (default duckdb)")
    parser.add_argument("--dataset", default=None, help="dataset name (default armature_data)")
    parser.add_argument("--pipeline-name", default=None, help="pipeline name (default armature)")
    parser.add_argument("--pipelines-dir", default=None, help=argparse.SUPPRESS)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    for name in ("armature_source", "armature_pipeline"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
        logger.propagate = False


if __name__ == "__main__":
    raise SystemExit(main())
