"""The pipeline and its destination: names, the DuckDB file, and what dlt's config says.

DuckDB is the default, in the file `warehouse.location` names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dlt
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.pipeline import get_dlt_pipelines_dir

from armature_pipeline.config import duckdb_settings
from armature_pipeline.settings import Settings, UsageError
from armature_pipeline.warehouse.duckdb_file import WaitingDuckDbCredentials, waiting_duckdb
from armature_pipeline.warehouse.legacy_duckdb import (
    duckdb_named_like_its_file,
    named_like_its_file,
)
from armature_pipeline.warehouse.location import duckdb_file


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    """The dlt pipeline for these settings (its working folder is created on first use)."""
    previous = last_dataset(settings)
    destination: Any = settings.destination or "duckdb"
    if destination == "duckdb":
        file = duckdb_file(settings.pipeline_name, settings.duckdb_file)
        # None: a whole credentials section in dlt's config, which then decides
        destination = duckdb_at(file.path, settings.dataset) if file else dlt.destinations.duckdb()
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


def duckdb_at(path: str | Path, dataset: str) -> Any:
    """DuckDB at exactly `path`, its memory capped so that a large merge spills to disk instead
    of RAM ([armature.duckdb] memory_limit), its connections waiting for readers."""
    settings = duckdb_settings()
    credentials = WaitingDuckDbCredentials(str(path))
    credentials.global_config = {**(credentials.global_config or {}), "memory_limit": settings.memory_limit}
    if named_like_its_file(str(path), dataset):
        return duckdb_named_like_its_file(credentials)
    return waiting_duckdb(credentials)


def pipelines_root(settings: Settings) -> Path:
    """The folder of the pipelines' working folders: the one set, else dlt's default."""
    return Path(settings.pipelines_dir or get_dlt_pipelines_dir())


def last_dataset(settings: Settings) -> str | None:
    """The dataset this pipeline loaded last, read from its working folder without creating it."""
    state = pipelines_root(settings) / settings.pipeline_name / "state.json"
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
