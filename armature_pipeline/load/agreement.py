"""Before a load writes anything, the warehouse, the pipeline's state and the host must speak of
one world. Checked at every load, on every path (the command, `--org`, the demo, Dagster):

    the organization  the key answers for the organization whose data the warehouse holds;
                      otherwise the load is refused (exit 2), naming both
    the state         the pipeline's local cursors are the warehouse's own. When the warehouse
                      holds an older state of this pipeline (a backup restored, loads from
                      another folder into another file) or none at all (a fresh warehouse), the
                      warehouse wins: the local state is dropped, and the load restores the
                      warehouse's (or starts afresh), so the gap is read again
    the data          a resource whose tables are gone from the warehouse starts over

The source itself also refuses an organization other than its state's (`load.context`), so a
library user's pipeline is held to the first rule too.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.state_sync import load_pipeline_state_from_destination

from armature_analytics import load_health
from armature_pipeline.settings import UsageError
from armature_pipeline.warehouse.duckdb_file import duckdb_path
from armature_source import source as declared
from armature_source.load.context import Organization

log = logging.getLogger("armature_pipeline")

NOTHING_THERE = "the warehouse holds nothing of this pipeline (a new or emptied warehouse): it is loaded afresh"


def check_world(pipeline: dlt.Pipeline, org: Organization) -> None:
    """Hold the warehouse and the local state to one organization and one history.

    Two connections answer every question: one for the data, one for the stored state
    (opening one costs more than the questions).

    Raises:
        UsageError: the warehouse holds another organization's data.
    """
    afresh: tuple[str, bool] | None = (NOTHING_THERE, False)
    if not _no_file(pipeline):
        afresh = _disagreement(pipeline, org)
    if afresh is not None and (afresh[1] or _has_cursors(pipeline)):
        _start_afresh(pipeline, afresh[0])


def _disagreement(pipeline: dlt.Pipeline, org: Organization) -> tuple[str, bool] | None:
    """Why the local state must go, and whether even a state without cursors must (None: it
    stays).

    Raises:
        UsageError: the warehouse holds another organization's data.
    """
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return NOTHING_THERE, False
        db = load_health.SqlClientTables(sql)
        held = _organizations(db)
        there = db.present([r.tables[0].name for r in declared.DECLARED])
    if held and held != {org.id}:
        raise UsageError(
            f"the key answers for organization {org.slug} ({org.id}), but dataset "
            f"{pipeline.dataset_name} holds organization {', '.join(sorted(str(h) for h in held))}. "
            "Nothing was loaded. A dataset holds one organization: load this one as its own "
            "pipeline (--org <slug>, or --pipeline-name and --dataset), or check the base URL and "
            "the key.")
    with pipeline.destination_client() as client:
        try:
            stored = load_pipeline_state_from_destination(pipeline.pipeline_name, client)  # type: ignore[arg-type]
        except Exception:  # no state table yet: nothing of this pipeline is there
            stored = None
    if stored is None:
        return "the warehouse holds no state of this pipeline: it is loaded afresh", False
    local = pipeline.state.get("_state_version", 0)
    pending = len(pipeline.list_extracted_load_packages()) + len(pipeline.list_normalized_load_packages())
    if local - stored["_state_version"] > pending:  # each pending package carries one step
        return (f"the warehouse holds an older state of this pipeline (version "
                f"{stored['_state_version']}, the local one is {local}: a backup restored, or "
                "loads into another file meanwhile); the warehouse wins, and what it lacks is read "
                "again", True)
    _restart_resources_without_tables(pipeline, there)
    return None


def _restart_resources_without_tables(pipeline: dlt.Pipeline, there: set[str]) -> None:
    """A resource whose own table is gone from the warehouse forgets its cursors."""
    resources = pipeline.state.get("sources", {}).get("armature", {}).get("resources", {})
    if not resources:
        return
    gone = [r.name for r in declared.DECLARED if resources.get(r.name) and r.tables[0].name not in there]
    if not gone:
        return
    log.warning("%s: their tables are gone from the warehouse; they are loaded afresh",
                ", ".join(gone))
    with pipeline.managed_state() as state:
        kept = state["sources"]["armature"]["resources"]
        for name in gone:
            kept.pop(name, None)


def _start_afresh(pipeline: dlt.Pipeline, why: str) -> None:
    log.warning("pipeline %s: %s.", pipeline.pipeline_name, why)
    pipeline.drop()


def _has_cursors(pipeline: dlt.Pipeline) -> bool:
    source: dict[str, Any] = pipeline.state.get("sources", {}).get("armature", {})
    return any(source.get("resources", {}).values()) or bool(source.get("organization_id"))


def _no_file(pipeline: dlt.Pipeline) -> bool:
    """Whether the warehouse is a DuckDB file that is not there (never created to find out)."""
    path = duckdb_path(pipeline) if _is_duckdb(pipeline) else None
    return path is not None and path != ":memory:" and not Path(path).exists()


def _organizations(db: load_health.Tables) -> set[str]:
    if not db.present(["organization"]):
        return set()
    return {str(r["id"]) for r in db.rows(f"select distinct id from {db.name('organization')}")
            if r["id"] is not None}


def _is_duckdb(pipeline: dlt.Pipeline) -> bool:
    return pipeline.destination is not None and pipeline.destination.destination_name == "duckdb"
