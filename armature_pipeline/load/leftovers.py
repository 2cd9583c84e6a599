"""What a run cut short leaves in the pipeline's working folder that would stop every later run.

dlt writes each file of the folder under a temporary name (16 hex digits) beside its place and
then renames it. A write that fails (a full disk) or is killed leaves the temporary file, and
dlt takes one in `schemas/` for a schema of that name: every later run then stops before it
loads anything (`InvalidSchemaName`). Only a run holding the pipeline's lock sweeps them, so
no file another run is writing is ever taken.

A run killed while dlt rewrote the folder (restoring its state and schemas from the destination)
can also leave a `state.json` naming a schema whose file is gone: every later run then stops
with `SchemaNotFoundError`. The folder is only a cache of what the destination holds (the
state and schemas dlt stores there with each load), so such a folder is removed and the run
restores it from the destination, as after a working folder that was lost.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
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


def mend(working: Path) -> list[Path]:
    """Sweep `working` (see `sweep`); remove it whole when its state names a schema whose file
    is gone or cannot be read. What was removed."""
    removed = sweep(working)
    broken = _broken(working)
    if broken:
        shutil.rmtree(working, ignore_errors=True)
        log.warning("removed the working folder %s: %s (a run was cut short while dlt rewrote it); "
                    "this run restores its state and schema from the destination", working, broken)
        removed.append(working)
    return removed


def _broken(working: Path) -> str | None:
    """Why dlt cannot open the working folder's state and schemas; None when it can."""
    state = working / "state.json"
    if not state.is_file():
        return None
    try:
        names = json.loads(state.read_text()).get("schema_names") or []
    except (OSError, ValueError, AttributeError):
        return "its state.json cannot be read"
    missing = [str(name) for name in names if not (working / "schemas" / f"{name}.schema.json").is_file()]
    return f"its state names the schema {', '.join(missing)}, whose file is gone" if missing else None
