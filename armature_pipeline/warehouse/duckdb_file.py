"""The DuckDB file as a shared resource: who holds it, waiting for it, checking its folder.

DuckDB lets one process write a file, and not while another has it open, even read-only.
"""

from __future__ import annotations

import logging
import os
import weakref
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

from armature_analytics.held_file import while_held
from armature_pipeline.config import duckdb_settings
from armature_pipeline.settings import UsageError

log = logging.getLogger("armature_pipeline")

class _WaitingPool(DuckDbConnectionPool):
    """dlt's DuckDB connection pool, waiting for a reader to let go of the file.

    dlt opens the file at every step (state sync, load, views); a notebook or `status` that
    holds it for a moment then would fail the load. Each open waits, up to the wait setting.
    """

    def borrow_conn(self, *args: Any, **kwargs: Any) -> Any:
        borrow = super().borrow_conn
        return while_held(lambda: borrow(*args, **kwargs), duckdb_settings().wait_s or 0.0,
                          give_up=lambda exc, _held: exc)


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

    spec = _WaitingConfiguration

    @property
    def destination_type(self) -> str:
        return "dlt.destinations.duckdb"  # state and `dlt.attach` see plain DuckDB


def wait_for_duckdb(pipeline: dlt.Pipeline, wait_s: float) -> None:
    """Wait up to `wait_s` for another process to let go of the DuckDB file, else explain."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    path = duckdb_path(pipeline)
    if path is None or not Path(path).exists():
        return
    try:
        while_held(lambda: duckdb.connect(path).close(), wait_s,
                   give_up=lambda _exc, held: HeldError(f"{held}. Nothing was loaded."))
    except duckdb.IOException as exc:
        raise UsageError(f"cannot open the DuckDB file {path}: {exc}. Point "
                         "DESTINATION__DUCKDB__CREDENTIALS at a DuckDB file, or move "
                         "this file away.") from None
    except duckdb.Error as exc:  # not a DuckDB file, or one of a newer version
        raise UsageError(f"cannot open {path} as a DuckDB file ({type(exc).__name__}: {exc}). "
                         "Point DESTINATION__DUCKDB__CREDENTIALS at a DuckDB file, or move "
                         "this file away.") from None


# the file each pipeline loads, found once per pipeline and destination: finding it makes a
# destination client, which resolves dlt's whole configuration
_PATHS: "weakref.WeakKeyDictionary[dlt.Pipeline, tuple[Any, str]]" = weakref.WeakKeyDictionary()


def duckdb_path(pipeline: dlt.Pipeline) -> str | None:
    """The DuckDB file the pipeline's destination names; None when it names none."""
    known = _PATHS.get(pipeline)
    if known is not None and known[0] is pipeline.destination:
        return known[1]
    try:
        config: Any = pipeline.destination_client().config
        path = str(config.credentials.database)
    except Exception:
        return None
    _PATHS[pipeline] = (pipeline.destination, path)
    return path


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


