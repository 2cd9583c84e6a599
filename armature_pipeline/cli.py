"""The `armature-pipeline` command: run, status, check, demo, dashboard, sql, dbt.

Exit codes (schedulers depend on them): 0 loaded; 1 the load failed; 2 bad usage or
configuration (nothing written); 3 another run of the same pipeline holds the lock.
`status` exits 0 when healthy, 1 when not (see armature_pipeline/status/).
"""

# ruff: noqa: E402 (the SIGTERM handler is put in place before the imports below)
from __future__ import annotations

import os
import signal
import sys
import threading


def _before_start(signum: int, frame: object) -> None:
    """A SIGTERM before the command has set itself up: one line and exit 1, never a silent 143
    (nothing began: no lock was taken, nothing was read or written)."""
    os.write(2, b"armature-pipeline: terminated (SIGTERM) before the run began; nothing was read "
                b"or written\n")
    os._exit(1)


signal.signal(signal.SIGTERM, _before_start)  # first, so the imports below are covered too

import argparse
import importlib
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NoReturn, Sequence

from armature_pipeline.output import logs, unwritable
from armature_pipeline.output.durations import parse_duration
from armature_pipeline.settings import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    LockedError,
    Terminated,
    UsageError,
)

log = logging.getLogger("armature_pipeline")
# dlt keeps a merge's staging copy of every table unless told to empty it after the load
TRUNCATE_STAGING = "load.truncate_staging_dataset"
LOADING_COMMANDS = ("run", "demo")


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(raw)
    except BadUsage as exc:
        fmt = _format_asked(raw)
        logs.setup(fmt=fmt)
        if fmt == "text":
            sys.stderr.write(exc.usage)
        log.error("%s", exc)
        return EXIT_CONFIG
    logs.setup(verbose=args.verbose, quiet=getattr(args, "quiet", False),
               fmt=getattr(args, "log_format", "text"))
    Terminated.asked = False  # this command's signal, not an earlier one's in the same process
    signal.signal(signal.SIGTERM, _terminated)
    sys.unraisablehook = _unraisable
    try:
        # dlt is heavy: the command's module and dlt are imported after argument parsing, and
        # inside this `try`, so a SIGTERM while they are imported ends the run as any other
        with _staging_emptied(args.command):
            command = importlib.import_module(f"armature_pipeline.commands.{args.command}")
            ended_with = int(command.main(args))
        Terminated.raise_if_asked()  # a SIGTERM a library turned into an error of its own
        return ended_with
    except UsageError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    except LockedError as exc:
        log.error("%s", exc)
        return EXIT_LOCKED
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    except BrokenPipeError:  # `status | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if exc.errno not in unwritable.ERRNOS:
            log.exception("unexpected %s: %s", type(exc).__name__, exc)
            return EXIT_FAILED
        # the folder this run was given, not dlt's default (a full disk names the right one)
        log.error("%s", unwritable.explain(exc, getattr(args, "pipelines_dir", None)))
        return EXIT_FAILED if exc.errno in unwritable.FULL else EXIT_CONFIG
    except Exception as exc:
        if Terminated.asked:  # the signal's, turned by a library into an error of its own
            return _stopped(Terminated())
        if (code := _dlt_settings_error(exc)) is not None:
            return code
        # a bug: its traceback goes through the log too (JSON stays JSON)
        log.exception("unexpected %s: %s", type(exc).__name__, exc)
        return EXIT_FAILED
    finally:
        logs.finish()
        _ended()


def _stopped(exc: KeyboardInterrupt) -> int:
    how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    log.error("%s: nothing half-written is kept; run again to finish.", how)
    return EXIT_FAILED


def _dlt_settings_error(exc: Exception) -> int | None:
    """Exit 2 with a line for a dlt settings file that cannot be read or a setting dlt cannot
    resolve; None for anything else. (dlt is imported already when one of its errors came.)"""
    from dlt.common.configuration.exceptions import ConfigurationException
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    if isinstance(exc, TomlProviderReadException):
        print(f"error: a dlt settings file cannot be read: {exc}. Fix the TOML syntax there "
              "(strings in double quotes, one `key = value` a line); nothing was loaded.",
              file=sys.stderr)
        return EXIT_CONFIG
    if isinstance(exc, ConfigurationException):  # a setting dlt cannot resolve or convert
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return None


def _ended() -> None:
    """The command has ended and said how: a SIGTERM from now on (while the interpreter shuts
    down, when Python has put the default handler back) must not turn its exit code into 143."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread: the caller's signals are its own
        pass


def _terminated(signum: int, frame: object) -> None:
    Terminated.asked = True
    raise Terminated()


def _unraisable(unraisable: Any) -> None:
    """A SIGTERM whose `Terminated` was raised where Python cannot raise (a weakref or garbage
    collector callback, a `__del__`) is printed and dropped by Python, and the run would go on
    to exit 0. The signal is sent again instead, a moment later from another thread: sent from
    here, its handler would raise inside this hook, where the exception is dropped again."""
    if isinstance(unraisable.exc_value, Terminated):
        again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM))
        again.daemon = True
        again.start()
        return
    sys.__unraisablehook__(unraisable)


def _staging_emptied(command: str) -> AbstractContextManager[Any]:
    """dlt's `[load] truncate_staging_dataset`, on for a load unless configured otherwise.

    A merge goes through `<dataset>_staging`, which otherwise keeps a full copy of every
    table that every BI tool lists.
    """
    if command not in LOADING_COMMANDS:
        return nullcontext()
    import dlt

    if dlt.config.get(TRUNCATE_STAGING) is not None:
        return nullcontext()
    return dlt.config.values({TRUNCATE_STAGING: True})


class BadUsage(Exception):
    """What argparse would print before exiting 2, kept so it can be logged (JSON too)."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadUsage(f"{self.prog}: {message}", self.format_usage())


def _format_asked(raw: list[str]) -> logs.Format:
    """The --log-format of a command line that did not parse, as far as it can be read."""
    for i, arg in enumerate(raw):
        value = arg.split("=", 1)[1] if arg.startswith("--log-format=") else (
            raw[i + 1] if arg == "--log-format" and i + 1 < len(raw) else None)
        if value == "json":
            return "json"
    return "text"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    run.add_argument("--dbt", action="store_true",
                     help="then build and test the dbt package (dbt_armature/) on the destination; a "
                          "failing dbt test is a warning, the load is kept")
    run.add_argument("--quiet", action="store_true",
                     help="print only warnings, errors and one summary line (for cron)")
    _log_format_flag(run)

    status = sub.add_parser("status", help="health of the last load, the ledger, gaps, rejects")
    _target_flags(status)
    _org_flags(status)
    status.add_argument("--json", action="store_true", help="one JSON document on stdout")
    status.add_argument("--max-age", type=_duration, metavar="DURATION",
                        help="unhealthy (exit 1) when the last successful load is older, "
                             "e.g. 30m, 2h, 1d")
    _log_format_flag(status)

    check = sub.add_parser("check", help="key smoke test and live /openapi contract check")
    _source_flags(check)

    demo = sub.add_parser("demo", help="load a local simulator into armature_demo.duckdb")
    demo.add_argument("--runs", type=int, default=3000, help="runs in the simulated world")
    demo.add_argument("--latency-ms", type=int, default=0)
    _log_format_flag(demo)

    sql = sub.add_parser("sql", help="run SQL on the DuckDB warehouse (read-only unless --write)")
    sql.add_argument("query", nargs="?", help="the SQL; read from standard input when left out")
    _reader_flags(sql)
    sql.add_argument("--write", action="store_true", help="open the file for writing")

    dbt = sub.add_parser("dbt", help="run a dbt command (build, test, ...) of the dbt package on the "
                                     "pipeline's destination, e.g. `dbt build --select unmet_demand`")
    _target_flags(dbt)
    dbt.add_argument("--org", metavar="SLUG", help="the organization of [armature.orgs.SLUG]")
    _log_format_flag(dbt)
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS]",
                     help="the dbt command and its flags, passed to dbt")

    board = sub.add_parser("dashboard", help="the reporting dashboard over the warehouse, read-only")
    _reader_flags(board)
    board.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    board.add_argument("--port", type=int, default=8350, help="port (default 8350; 0 picks a free one)")
    board.add_argument("--export", metavar="FILE.html", help="write one static HTML file and exit")
    return parser


def _source_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="dashboard URL or REST base (env ARMATURE_BASE_URL)")
    parser.add_argument("--api-key", help="amt_<key-id>_<secret> (env ARMATURE_API_KEY)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="permit plain http to a host that is not loopback")


def _reader_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duckdb", metavar="FILE",
                        help="the DuckDB file (default: the pipeline's, as `run` writes it)")
    parser.add_argument("--dataset", help="dataset name (default armature_data; env ARMATURE_DATASET)")
    parser.add_argument("--pipeline-name", default=None, help="pipeline name (default armature)")
    parser.add_argument("--org", metavar="SLUG", help="the organization of [armature.orgs.SLUG]")


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


def _log_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-format", choices=logs.FORMATS, default="text",
                        help="text lines (default) or one JSON object per line")


def _duration(raw: str) -> float:
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    raise SystemExit(main())
