"""The pipeline and its destination: names, the DuckDB file, and what dlt's config says.

DuckDB is the default: a file named after the pipeline in the current folder
(`armature.duckdb`, the demo's `armature_demo.duckdb`), as dlt names it, unless dlt's own
`[destination.duckdb] credentials` / `DESTINATION__DUCKDB__CREDENTIALS` say otherwise.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import dlt
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.pipeline import get_dlt_pipelines_dir

from armature_pipeline.warehouse.duckdb_file import WaitingDuckDbCredentials, waiting_duckdb
from armature_pipeline.warehouse.legacy_duckdb import (
    duckdb_named_like_its_file,
    named_like_its_file,
)
from armature_pipeline.settings import Settings, UsageError

DUCKDB_MEMORY_ENV = "ARMATURE_DUCKDB_MEMORY_LIMIT"
DUCKDB_MEMORY_DEFAULT = "200MB"  # where a backfill's peak stops falling before merges slow (bench/NOTES.md)
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B|bytes)", re.IGNORECASE)


def make_pipeline(settings: Settings, destination: Any = None) -> dlt.Pipeline:
    """The dlt pipeline for these settings (its working folder is created on first use).

    Args:
        destination: a destination to use instead of the one the settings name.
    """
    previous = last_dataset(settings)
    destination = destination or settings.destination or "duckdb"
    if destination == "duckdb":
        destination = duckdb_destination(settings.pipeline_name, settings.dataset)
    try:
        pipeline = dlt.pipeline(
            pipeline_name=settings.pipeline_name,
            destination=destination,
            dataset_name=settings.dataset,
            pipelines_dir=settings.pipelines_dir,  # type: ignore[arg-type]  # None: dlt's default
        )
    except TomlProviderReadException:
        raise  # a broken settings file: the command says so
    except Exception as exc:  # an unknown destination name, a bad credentials string
        raise UsageError(
            f"cannot set up destination {settings.destination or 'duckdb'!r}: {exc}. Pass a dlt "
            "destination name with --destination and its credentials in .dlt/secrets.toml."
        ) from None
    if previous is not None and previous != settings.dataset and not settings.full_refresh:
        refuse_other_dataset(pipeline, settings, previous)
    return pipeline


def duckdb_destination(pipeline_name: str, dataset: str) -> Any:
    """DuckDB at dlt's configured credentials, else `<pipeline_name>.duckdb` in this folder,
    its memory capped so a large merge spills to disk instead of RAM (without a cap DuckDB's
    buffer pool grows with the data a load merges). ARMATURE_DUCKDB_MEMORY_LIMIT overrides
    the cap (DuckDB syntax, e.g. 2GB).
    """
    configured = _configured_duckdb()
    if configured is not None and not isinstance(configured, str):
        return dlt.destinations.duckdb()  # a whole credentials section: dlt's config decides
    return duckdb_at(configured or f"{pipeline_name}.duckdb", dataset)


def duckdb_at(path: str, dataset: str) -> Any:
    """DuckDB at exactly `path` (relative to the current folder), memory capped."""
    # absolute: dlt otherwise resolves a relative path against the folder the pipeline was
    # first created in, not the current one
    path = os.path.abspath(path)
    credentials = WaitingDuckDbCredentials(path)
    credentials.global_config = {**(credentials.global_config or {}), "memory_limit": memory_limit()}
    if named_like_its_file(path, dataset):
        return duckdb_named_like_its_file(credentials)
    return waiting_duckdb(credentials)


def memory_limit() -> str:
    """DuckDB's memory cap from ARMATURE_DUCKDB_MEMORY_LIMIT (checked), else the default."""
    value = os.environ.get(DUCKDB_MEMORY_ENV) or DUCKDB_MEMORY_DEFAULT
    if not MEMORY_SIZE.fullmatch(value.strip()):
        raise UsageError(f"{DUCKDB_MEMORY_ENV}={value!r} is not a memory size; use DuckDB's form, "
                         f"e.g. 512MB or 2GB (default {DUCKDB_MEMORY_DEFAULT}).")
    return value.strip()


def _configured_duckdb() -> Any:
    try:
        value: Any = dlt.secrets.get("destination.duckdb.credentials")
    except TomlProviderReadException:
        raise
    except Exception:
        return None
    return value or None  # an empty setting means none


def last_dataset(settings: Settings) -> str | None:
    """The dataset this pipeline loaded last, read from its working folder without creating it."""
    root = Path(settings.pipelines_dir or get_dlt_pipelines_dir())
    state = root / settings.pipeline_name / "state.json"
    try:
        value = json.loads(state.read_text()).get("dataset_name")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def refuse_other_dataset(pipeline: dlt.Pipeline, settings: Settings, previous: str) -> None:
    """Refuse to load a pipeline into another dataset than its cursors belong to, unless that
    dataset holds this pipeline's data (it was moved there).

    dlt keeps a pipeline's state (the cursors) whatever dataset it is pointed at; loading the
    same pipeline into a new, empty dataset would fill it with only what is new since the last
    load.
    """
    if _holds_pipeline(pipeline):
        return
    how = "--dataset" if settings.dataset_named else "the default dataset"
    raise UsageError(
        f"pipeline {settings.pipeline_name!r} loaded dataset {previous!r} so far, and its "
        f"cursors belong to that data; {how} is {settings.dataset!r}, which does not hold it. "
        f"Pass --dataset {previous} to keep loading it, move it there (`armature-pipeline "
        f"status --dataset {previous}` says how), or pass --full-refresh to load everything "
        f"the API still serves into {settings.dataset!r}."
    )


def _holds_pipeline(pipeline: dlt.Pipeline) -> bool:
    """Whether the pipeline's dataset holds this pipeline's state (so its data is there)."""
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return False
            table = client.make_qualified_table_name("_dlt_pipeline_state")
            rows = client.execute_sql(f"select count(*) from {table} where pipeline_name = %s",
                                      pipeline.pipeline_name)
    except Exception:
        return False
    return bool(rows and rows[0][0])
