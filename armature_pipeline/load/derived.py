"""Column comments and reporting views after a load, skipped when nothing they depend on changed.

Comments come from the dlt schema's descriptions and views from the SQL files in
`armature_analytics/views/`; both are written only where missing or changed, but finding that
out parses every view with sqlglot and reads the destination's catalog. A load that brought
nothing but its bookkeeping rows (the ledger, the organization row every load rewrites), onto
a schema, a set of view files and a dataset all as they were when both were last applied,
skips both: the mark of what they were applied to is kept in the pipeline's working folder.

The cost: a view or comment dropped by hand in the warehouse comes back with the next load
that brings data, not with a load that brings none.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import dlt

from armature_source import tables as t

log = logging.getLogger("armature_pipeline")

# written by every load, changed or not: its own ledger rows, the organization row it rewrites
BOOKKEEPING = frozenset({t.LOAD_LEDGER.name, t.ORGANIZATION.name})
MARK_FILE = "armature_derived.json"


def brought_data(rows: dict[str, int]) -> bool:
    """Whether a load's rows go beyond the bookkeeping every load writes."""
    return any(n for table, n in rows.items() if table not in BOOKKEEPING)


def apply(pipeline: dlt.Pipeline, rows: dict[str, int]) -> list[str]:
    """Comments and views as `apply_comments` and `apply_views` make them; the views in place."""
    path = Path(pipeline.working_dir) / MARK_FILE
    if not brought_data(rows):
        kept = _kept(path, _mark(pipeline))
        if kept is not None:
            log.info("comments and views: nothing they depend on changed; left as they are")
            return kept
    from armature_analytics import apply_comments, apply_views  # sqlglot is heavy: only when needed

    apply_comments(pipeline)
    views = apply_views(pipeline)
    try:
        path.write_text(json.dumps({"mark": _mark(pipeline), "views": views}))
    except OSError:  # applied again next time: nothing is lost
        pass
    return views


def _kept(path: Path, mark: str) -> list[str] | None:
    """The views in place when the stored mark is `mark`; None when anything changed."""
    try:
        stored: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("mark") != mark or not isinstance(stored.get("views"), list):
        return None
    return [str(v) for v in stored["views"]]


def _mark(pipeline: dlt.Pipeline) -> str:
    """What comments and views were made from: the schema, the view files, the dataset."""
    from armature_analytics.views import VIEWS_DIR

    digest = hashlib.sha256()
    destination = pipeline.destination.destination_name if pipeline.destination else ""
    digest.update(f"{destination}\0{pipeline.dataset_name}\0{pipeline.default_schema.version_hash}".encode())
    for file in sorted(VIEWS_DIR.glob("*.sql")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
