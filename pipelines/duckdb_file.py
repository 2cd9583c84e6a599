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

from pipelines import logs
from pipelines.settings import UsageError

log = logging.getLogger("armature_pipeline")


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
                raise
            if time.monotonic() >= deadline:
                raise HeldError(f"{held}. Nothing was loaded.") from None
            logs.waiting(log, "the DuckDB file", deadline, held)
            time.sleep(1.0)


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


