"""What a run cut short leaves in the pipeline's working folder that would stop every later run.

dlt writes each file of the folder under a temporary name (16 hex digits) beside its place and
then renames it. A write that fails (a full disk) or is killed leaves the temporary file, and
dlt takes one in `schemas/` for a schema of that name: every later run then stops before it
loads anything (`InvalidSchemaName`). Only a run holding the pipeline's lock sweeps them, so
no file another run is writing is ever taken.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger("armature_pipeline")

TEMPORARY = re.compile(r"[0-9a-f]{16}")  # dlt's `uniq_id(8)`, its name for a file being written


def sweep(working: Path) -> list[Path]:
    """Remove the half-written temporary files under `working`; the files removed."""
    if not working.is_dir():
        return []
    removed = [path for path in working.rglob("*") if TEMPORARY.fullmatch(path.name) and path.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
        log.warning("removed %s: a file an earlier run left half-written (it was cut short: a full "
                    "disk, a kill) and dlt would read as a schema or a package file", path)
    return removed
