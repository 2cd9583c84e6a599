"""Opening a DuckDB file that a load publishes, read-only, for our readers.

Our readers (`status`, `sql`, the dashboard, the notebooks, the Dagster checks) open the
warehouse's read copy, which the loader publishes by an atomic rename after every load that
changed something (`armature_pipeline.warehouse.read_copy`): no reader of it ever holds the file
a load writes, and a reader that keeps it open sees one whole load until it reconnects. When
read copies are off, they open the warehouse itself, waiting while a load writes it.

    ReadError
    ├── WarehouseNotFound (also FileNotFoundError)  no file at that path
    ├── NotAWarehouse (also ValueError)             a file, but not a DuckDB database
    ├── DatasetNotFound (also LookupError)          a DuckDB file without that dataset
    └── WarehouseBusy (also TimeoutError)           a writer held the file for the whole wait

DuckDB keeps one database per file and process: a connection opened while another of the same
process is still open shares the first one's file, even after the copy was replaced. Close
every connection to see a newer load.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from armature_analytics.held_file import holder, while_held

log = logging.getLogger("armature_pipeline.reader")

DEFAULT_DATASET = "armature_data"
DEFAULT_WAIT_S = 30.0
# a DuckDB file carries this magic number after its 8-byte checksum
_MAGIC = b"DUCK"


class ReadError(Exception):
    """The DuckDB file could not be read."""


class WarehouseNotFound(ReadError, FileNotFoundError):
    """No file at the path given."""


class NotAWarehouse(ReadError, ValueError):
    """The path names a file that is not a DuckDB database."""


class DatasetNotFound(ReadError, LookupError):
    """The DuckDB file has no schema of the dataset's name."""


class WarehouseBusy(ReadError, TimeoutError):
    """Another process held the file for writing for the whole wait."""


@dataclass(frozen=True)
class Opened:
    """What a connection reads: the file, the dataset, when the file was written (for a read
    copy: when it was published), and DuckDB's storage version of it."""

    path: Path
    dataset: str
    written_at: datetime
    storage_version: str | None


def connect(path: str | Path, dataset: str = DEFAULT_DATASET, *,
            wait_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a DuckDB file whose current schema is the dataset, so queries
    name tables and views bare (`select * from flaky_workflows`). Close it when done.

    Args:
        path: the read copy (or, with read copies off, the warehouse).
        dataset: the dataset (schema) in it.
        wait_s: how long to retry while a load holds the file for writing (only a warehouse
            is ever held so); by default ARMATURE_DUCKDB_WAIT_S, else 30 s.

    Raises:
        WarehouseNotFound, NotAWarehouse, DatasetNotFound, WarehouseBusy.
    """
    file = Path(path).expanduser().resolve()
    _check_file(file)
    if wait_s is None:
        wait_s = float(os.environ.get("ARMATURE_DUCKDB_WAIT_S", DEFAULT_WAIT_S))
    con = _open(file, wait_s)
    try:
        found = [r[0] for r in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database() "
            "order by 1").fetchall()]
        if dataset not in found:
            listed = ", ".join(s for s in found if s not in ("main", "information_schema", "pg_catalog"))
            raise DatasetNotFound(f"{file} has no dataset {dataset!r} (datasets in it: {listed or 'none'}); "
                                  "name the dataset with --dataset / ARMATURE_DATASET.")
        con.execute(f"use {_quote(_catalog(con))}.{_quote(dataset)}")
    except BaseException:
        con.close()
        raise
    return con


def opened(con: duckdb.DuckDBPyConnection) -> Opened:
    """Which file and dataset a connection from `connect` reads, and when it was written."""
    row = con.execute("select path, tags from duckdb_databases() where database_name = current_database()").fetchone()
    schema = con.execute("select current_schema()").fetchone()
    path = Path(str(row[0])) if row else Path("?")
    tags = row[1] if row and isinstance(row[1], dict) else {}
    try:
        written = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        written = datetime.now(timezone.utc)
    return Opened(path, str(schema[0]) if schema else "?", written, tags.get("storage_version"))


def _busy_message(file: Path, exc: duckdb.IOException, wait_s: float) -> str:
    return (
        f"the DuckDB file {file} was held for writing by {holder(str(exc))} for the whole "
        f"{wait_s:g} s wait. A scheduled load usually finishes within a minute: try again then. "
        "If nothing is loading, close the program that opened the file read-write."
    )


def _check_file(file: Path) -> None:
    if not file.exists():
        raise WarehouseNotFound(
            f"no DuckDB file at {file}. A load publishes it (`armature-pipeline run`, or "
            "`armature-pipeline demo` for sample data); or name the warehouse with --duckdb / "
            "ARMATURE_DUCKDB."
        )
    header = b""
    if file.is_file():
        with file.open("rb") as handle:
            header = handle.read(12)
    if header[8:12] != _MAGIC:
        raise NotAWarehouse(f"{file} is not a DuckDB database file; name the file a load writes.")


def _open(file: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Open read-only, retrying while a writer holds the file, for at most `wait_s`."""
    try:
        return while_held(lambda: duckdb.connect(str(file), read_only=True), wait_s,
                          give_up=lambda exc, _held: WarehouseBusy(_busy_message(file, exc, wait_s)))
    except duckdb.IOException as exc:
        raise NotAWarehouse(f"cannot read {file} as a DuckDB database: {exc}") from None


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    return str(row[0]) if row else "main"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
