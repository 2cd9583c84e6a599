"""`--full-refresh` that leaves the warehouse as it was when it fails.

The new tables are built beside the old ones, by the same pipeline in a scratch working
folder: on DuckDB in a scratch file next to the warehouse, on Postgres in a scratch schema.
Only when that load succeeded are they swapped in, in one step (a file rename; two schema
renames in one transaction), and the scratch working folder becomes the pipeline's. Until the
swap nothing of the warehouse or the pipeline's state has changed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.pipeline.exceptions import PipelineStepFailed

from armature_analytics.views import drop_views
from armature_pipeline.load.outcome import Outcome, failed, finished
from armature_pipeline.settings import EXIT_FAILED
from armature_pipeline.warehouse.destination import duckdb_at
from armature_pipeline.warehouse.duckdb_file import duckdb_path

log = logging.getLogger("armature_pipeline")

SCRATCH = "refresh"


def full_refresh(pipeline: dlt.Pipeline, source: Any) -> Outcome:
    """Load everything again into a scratch place, then swap it in."""
    kind = pipeline.destination.destination_name if pipeline.destination else ""
    if kind == "duckdb":
        path = duckdb_path(pipeline)
        if path and path != ":memory:":
            return _refresh_duckdb(pipeline, source, Path(path))
    if kind == "postgres":
        return _refresh_postgres(pipeline, source)
    log.warning("--full-refresh on %s drops the tables first: a failure leaves them empty "
                "(only DuckDB and Postgres are refreshed beside the old tables)", kind)
    drop_views(pipeline)  # they stand on the tables, and the schema lists them beside
    try:
        info = pipeline.run(source, refresh="drop_sources")
    except PipelineStepFailed as exc:
        return failed(pipeline, exc)
    return finished(pipeline, info)


def _scratch_dir(pipeline: dlt.Pipeline) -> Path:
    folder = Path(pipeline.pipelines_dir) / f".{pipeline.pipeline_name}.{SCRATCH}"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _refresh_duckdb(pipeline: dlt.Pipeline, source: Any, path: Path) -> Outcome:
    scratch_file = path.with_name(f"{path.name}.{SCRATCH}")
    for leftover in (scratch_file, Path(f"{scratch_file}.wal")):
        leftover.unlink(missing_ok=True)
    folder = _scratch_dir(pipeline)
    scratch = dlt.pipeline(pipeline.pipeline_name, pipelines_dir=str(folder),
                           destination=duckdb_at(str(scratch_file), pipeline.dataset_name),
                           dataset_name=pipeline.dataset_name)
    outcome = _load_scratch(scratch, source)
    if not outcome.ok:
        shutil.rmtree(folder, ignore_errors=True)
        scratch_file.unlink(missing_ok=True)
        return _kept(outcome, f"the DuckDB file {path}")
    if path.exists():
        with duckdb.connect(str(path)) as con:  # fold the old file's WAL in before it goes
            con.execute("checkpoint")
    os.replace(scratch_file, path)
    _adopt(pipeline, folder)
    log.info("full refresh: the new tables replaced %s", path)
    return outcome


def _refresh_postgres(pipeline: dlt.Pipeline, source: Any) -> Outcome:
    dataset = pipeline.dataset_name
    scratch_dataset = f"{dataset}_{SCRATCH}"
    folder = _scratch_dir(pipeline)
    scratch = dlt.pipeline(pipeline.pipeline_name, pipelines_dir=str(folder),
                           destination=pipeline.destination, dataset_name=scratch_dataset)
    with scratch.sql_client() as client:
        client.execute_sql(f"drop schema if exists {_quoted(client, scratch_dataset)} cascade")
    outcome = _load_scratch(scratch, source)
    with scratch.sql_client() as client:
        if not outcome.ok:
            client.execute_sql(f"drop schema if exists {_quoted(client, scratch_dataset)} cascade")
            shutil.rmtree(folder, ignore_errors=True)
            return _kept(outcome, f"dataset {dataset}")
        old, new, gone = (_quoted(client, n) for n in (dataset, scratch_dataset, f"{dataset}_replaced"))
        with client.begin_transaction():
            client.execute_sql(f"drop schema if exists {gone} cascade")
            if client.execute_sql("select 1 from information_schema.schemata where schema_name = %s", dataset):
                client.execute_sql(f"alter schema {old} rename to {gone}")
            client.execute_sql(f"alter schema {new} rename to {old}")
        client.execute_sql(f"drop schema {gone} cascade")
        client.execute_sql(f"drop schema if exists {_quoted(client, scratch_dataset + '_staging')} cascade")
    _adopt(pipeline, folder, dataset)
    log.info("full refresh: the new tables replaced dataset %s", dataset)
    return outcome


def _load_scratch(scratch: dlt.Pipeline, source: Any) -> Outcome:
    try:
        info = scratch.run(source)
    except PipelineStepFailed as exc:
        return failed(scratch, exc)
    return finished(scratch, info)


def _kept(outcome: Outcome, what: str) -> Outcome:
    return Outcome(EXIT_FAILED, (
        f"the full refresh failed: {outcome.message} Nothing was swapped in: {what} and the "
        "pipeline's state are exactly as before the refresh."
    ))


def _adopt(pipeline: dlt.Pipeline, folder: Path, dataset: str | None = None) -> None:
    """Make the scratch working folder the pipeline's own (its state names `dataset`)."""
    fresh = folder / pipeline.pipeline_name
    if dataset is not None:
        state_file = fresh / "state.json"
        state = json.loads(state_file.read_text())
        state["dataset_name"] = dataset
        state_file.write_text(json.dumps(state))
    current = Path(pipeline.working_dir)
    retired = current.with_name(f".{current.name}.replaced")
    shutil.rmtree(retired, ignore_errors=True)
    if current.exists():
        os.replace(current, retired)
    os.replace(fresh, current)
    shutil.rmtree(retired, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


def _quoted(client: Any, name: str) -> str:
    return str(client.capabilities.escape_identifier(name))
