"""The DuckDB file as a shared resource: who holds it, waiting for it, checking its folder.

DuckDB lets one process write a file, and not while another has it open, even read-only.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.configuration import configspec
from dlt.destinations import duckdb as duckdb_factory
from dlt.destinations.impl.duckdb.configuration import (
    DuckDbClientConfiguration,
    DuckDbConnectionPool,
    DuckDbCredentials,
)

from armature_pipeline.output import logs
from armature_pipeline.settings import UsageError

log = logging.getLogger("armature_pipeline")

DUCKDB_WAIT_ENV = "ARMATURE_DUCKDB_WAIT_S"
DUCKDB_WAIT_DEFAULT = 30.0


def duckdb_wait_s() -> float:
    """How long a load waits for another process to let go of the DuckDB file, at each step."""
    raw = os.environ.get(DUCKDB_WAIT_ENV)
    if raw is None or raw == "":
        return DUCKDB_WAIT_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(f"{DUCKDB_WAIT_ENV}={raw!r} is not a number of seconds (0 or more); "
                         f"unset it for the default of {DUCKDB_WAIT_DEFAULT:.0f} s.")
    return value


class _WaitingPool(DuckDbConnectionPool):
    """dlt's DuckDB connection pool, waiting for a reader to let go of the file.

    dlt opens the file at every step (state sync, load, views); a notebook or `status` that
    holds it for a moment then would fail the load. Each open waits, up to the wait setting.
    """

    def borrow_conn(self, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + duckdb_wait_s()
        while True:
            try:
                return super().borrow_conn(*args, **kwargs)
            except duckdb.IOException as exc:
                held = holder_of(str(exc))
                if held is None or time.monotonic() >= deadline:
                    raise
                logs.waiting(log, "the DuckDB file", deadline, held)
                time.sleep(0.2)


@configspec(init=False)
class WaitingDuckDbCredentials(DuckDbCredentials):
    """DuckDB credentials whose connections wait for readers (see `_WaitingPool`)."""

    def on_resolved(self) -> None:
        super().on_resolved()
        self.conn_pool = _WaitingPool(self)


@configspec(init=False)
class _WaitingConfiguration(DuckDbClientConfiguration):
    credentials: WaitingDuckDbCredentials = None  # type: ignore[assignment]


class waiting_duckdb(duckdb_factory):
    """dlt's DuckDB destination, its connections waiting for readers of the file."""

    spec = _WaitingConfiguration  # type: ignore[assignment]

    @property
    def destination_type(self) -> str:
        return "dlt.destinations.duckdb"  # state and `dlt.attach` see plain DuckDB


def holder_of(message: str) -> str | None:
    """Explain DuckDB's lock conflict: which process holds the file and what to do."""
    found = re.search(r'Could not set lock on file "([^"]+)": Conflicting lock is held in (.+?) \(PID (\d+)\)', message)
    if not found:
        return None
    path, program, pid = found.groups()
    return (
        f"the DuckDB file {path} is open in another process (PID {pid}, {program}), such as a "
        "notebook or a BI tool; DuckDB lets only one process write, and not while others read. "
        "Close that connection (readers should connect, query and disconnect), then run again"
    )


def wait_for_duckdb(pipeline: dlt.Pipeline, wait_s: float) -> None:
    """Wait up to `wait_s` for another process to let go of the DuckDB file, else explain."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    path = duckdb_path(pipeline)
    if path is None or not Path(path).exists():
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            duckdb.connect(path).close()
            return
        except duckdb.IOException as exc:
            held = holder_of(str(exc))
            if held is None:
                raise UsageError(f"cannot open the DuckDB file {path}: {exc}. Point "
                                 "DESTINATION__DUCKDB__CREDENTIALS at a DuckDB file, or move "
                                 "this file away.") from None
            if time.monotonic() >= deadline:
                raise HeldError(f"{held}. Nothing was loaded.") from None
            logs.waiting(log, "the DuckDB file", deadline, held)
            time.sleep(0.5)
        except duckdb.Error as exc:  # not a DuckDB file, or one of a newer version
            raise UsageError(f"cannot open {path} as a DuckDB file ({type(exc).__name__}: {exc}). "
                             "Point DESTINATION__DUCKDB__CREDENTIALS at a DuckDB file, or move "
                             "this file away.") from None


def duckdb_path(pipeline: dlt.Pipeline) -> str | None:
    try:
        config: Any = pipeline.destination_client().config
        return str(config.credentials.database)
    except Exception:
        return None


def check_destination(pipeline: dlt.Pipeline) -> None:
    """Refuse, before anything is written, a DuckDB file whose folder is missing or read-only."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    path = duckdb_path(pipeline)
    if path is None or path == ":memory:":
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(
            f"cannot write the DuckDB file {path}: its folder does not exist or is not "
            "writable. Set DESTINATION__DUCKDB__CREDENTIALS to a writable path, or run from a "
            "writable folder."
        )


class HeldError(Exception):
    """The destination file is held by another process."""


