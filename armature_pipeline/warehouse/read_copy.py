"""The read copy: the warehouse's datasets in a file of its own that BI tools and our readers open.

DuckDB lets one process write a file or several read it, never both, and DuckDB 2.0 writes a
storage format the BI drivers' DuckDB (1.4, 1.5) cannot open. So after a load that changed
something, the loader (still holding the pipeline's lock) publishes a copy beside the
warehouse, `<stem>_read.duckdb` by default:

    attach the warehouse read-only, and a scratch file `.<copy>.publishing` in the storage
    version asked for -> COPY FROM DATABASE (tables, views, comments) -> drop the staging
    datasets -> CHECKPOINT, detach -> fsync the scratch file -> rename it over the copy ->
    fsync the folder

A reader that has the old copy open keeps reading it, whole, until it reconnects (the rename
leaves its file in place until closed); a new connection opens the new one; nobody ever opens
half a copy, and no reader of the copy ever holds the warehouse. A kill at any step leaves the
previous copy as it was; the scratch file it leaves is removed by the next publish.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock

from armature_analytics.held_file import while_held
from armature_pipeline.config import DuckDbSettings, duckdb_settings

log = logging.getLogger("armature_pipeline")

SOURCE, TARGET = "armature_warehouse", "armature_read_copy"
# dlt merges through `<dataset>_staging` and empties it after each load: no reader wants it
STAGING_SUFFIX = "_staging"


class PublishError(Exception):
    """The read copy could not be published; the message says where and why."""


@dataclass(frozen=True)
class Published:
    """A read copy as published: where, how big, in which storage version, how long it took."""

    path: Path
    bytes: int
    storage_version: str
    seconds: float


def copy_of(warehouse: Path, settings: DuckDbSettings | None = None) -> Path | None:
    """The read copy of a DuckDB warehouse file; None when read copies are off.

    A relative `read_copy_path` is taken beside the warehouse; `{stem}` in it is the warehouse
    file's name without its suffix (`armature` for `armature.duckdb`).
    """
    settings = settings or duckdb_settings()
    if not settings.read_copy:
        return None
    named = Path(os.path.expanduser(settings.read_copy_path.replace("{stem}", warehouse.stem)))
    copy = named if named.is_absolute() else warehouse.parent / named
    return Path(os.path.abspath(copy))


def for_reading(warehouse: Path, settings: DuckDbSettings | None = None) -> Path:
    """The file our readers open for this warehouse: its read copy, or the warehouse itself
    when read copies are off. A file named like a read copy (`*_read.duckdb`) is one already."""
    if warehouse.stem.endswith("_read"):
        return warehouse
    return copy_of(warehouse, settings) or warehouse


def for_a_reader(warehouse: Path, settings: DuckDbSettings | None = None) -> tuple[Path, str | None]:
    """The file a one-off reader (`sql`, `dashboard`) opens: the read copy when one is published,
    else the warehouse itself, with a line saying why (a pipeline run by the library, not by
    `armature-pipeline run`, publishes no copy)."""
    path = for_reading(warehouse, settings)
    if path == warehouse or path.exists() or not warehouse.exists():
        return path, None
    return warehouse, (f"note: {warehouse} has no read copy at {path} (`armature-pipeline run` "
                       "publishes one after each load); reading the warehouse itself.")


def missing_copy(warehouse: Path, copy: Path) -> str:
    """What to say when a warehouse has no read copy (yet)."""
    return (f"the warehouse {warehouse} has no read copy at {copy} yet: the next load publishes "
            "it (`armature-pipeline run`), or set [armature.duckdb] read_copy = false to read "
            "the warehouse itself.")


def scratch_of(copy: Path) -> Path:
    """The file a publish writes before it becomes the copy: hidden, beside it (same folder,
    so the rename is atomic)."""
    return copy.with_name(f".{copy.name}.publishing")


def publish(warehouse: Path, copy: Path, settings: DuckDbSettings | None = None) -> Published:
    """Write the warehouse's datasets into a new file and rename it over `copy`.

    Several pipelines that share one warehouse file share its copy: a lock beside the copy
    makes their publishes take turns, each copying the whole file as it is then.

    Raises:
        PublishError: the copy could not be written; the previous copy is untouched.
    """
    settings = settings or duckdb_settings()
    started = time.monotonic()
    scratch = scratch_of(copy)
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(copy.with_name(f".{copy.name}.lock"))):
            _remove(scratch)  # what a killed publish left
            try:
                _copy_into(warehouse, scratch, settings)
                _make_durable(scratch)
                _swap(scratch, copy)
            except BaseException:
                _remove(scratch)
                raise
    except (OSError, duckdb.Error, PublishError) as exc:
        raise PublishError(f"publishing the read copy {copy} of {warehouse} failed: "
                           f"{type(exc).__name__}: {exc}") from None
    return Published(copy, copy.stat().st_size, settings.read_copy_storage_version,
                     time.monotonic() - started)


def _copy_into(warehouse: Path, scratch: Path, settings: DuckDbSettings) -> None:
    """Every dataset of the warehouse but the staging ones, into `scratch`, checkpointed."""
    con = duckdb.connect(config={"memory_limit": settings.memory_limit or "200MB"})
    try:
        # another pipeline's load may hold a shared warehouse file: wait as its loads wait
        while_held(lambda: con.execute(f"attach {_literal(warehouse)} as {SOURCE} (read_only)"),
                   settings.wait_s or 0.0,
                   give_up=lambda _exc, held: PublishError(f"{held}; the next load publishes again"))
        con.execute(f"attach {_literal(scratch)} as {TARGET} "
                    f"(storage_version {_literal(settings.read_copy_storage_version)})")
        con.execute(f"copy from database {SOURCE} to {TARGET}")
        for schema in _staging_schemas(con):
            con.execute(f"drop schema {TARGET}.{_quote(schema)} cascade")
        con.execute(f"checkpoint {TARGET}")
        con.execute(f"detach {TARGET}")
        con.execute(f"detach {SOURCE}")
    finally:
        con.close()


def _staging_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`<dataset>_staging` for each dataset of the copy that has one."""
    names = {r[0] for r in con.execute(
        "select schema_name from duckdb_schemas() where database_name = ?", [TARGET]).fetchall()}
    return sorted(n for n in names if n.endswith(STAGING_SUFFIX) and n[:-len(STAGING_SUFFIX)] in names)


def _make_durable(scratch: Path) -> None:
    """The scratch file's bytes on disk before it takes the copy's name: a crash after the
    rename must never leave a copy whose blocks were still in the page cache."""
    with open(scratch, "rb") as handle:
        os.fsync(handle.fileno())
    wal = Path(f"{scratch}.wal")
    if wal.exists():  # a checkpointed, detached file has none; one left means an unfinished copy
        raise PublishError(f"{wal} is still there after the checkpoint")


def _swap(scratch: Path, copy: Path) -> None:
    """Rename the scratch file over the copy, then make the rename itself durable."""
    os.replace(scratch, copy)
    _fsync_folder(copy.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(scratch: Path) -> None:
    for leftover in (scratch, Path(f"{scratch}.wal")):
        leftover.unlink(missing_ok=True)


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
