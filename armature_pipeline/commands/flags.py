"""The command line's flags as `Settings`: names checked, resources mapped, organizations picked."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from armature_pipeline.orgs import Org, configured_orgs, pick
from armature_pipeline.settings import DEFAULT_DATASET, DEFAULT_PIPELINE, Settings, UsageError
from armature_pipeline.warehouse.location import duckdb_file
from armature_source import RESOURCE_ALIASES, RESOURCES

log = logging.getLogger("armature_pipeline")


def resolve(args: argparse.Namespace, org: Org | None = None) -> Settings:
    """Settings from the flags (and the organization's section, for --org / --all-orgs);
    what neither sets, dlt resolves from its config."""
    if org is None and getattr(args, "org", None):
        org = pick(configured_orgs(), args.org)
    source_args: dict[str, Any] = org.source_args() if org else {}
    for flag in ("base_url", "api_key"):
        value = getattr(args, flag, None)
        if value is not None:
            source_args[flag] = value
    if getattr(args, "allow_insecure_http", False):
        source_args["allow_insecure_http"] = True
    if org and getattr(args, "pipeline_name", None):
        raise UsageError(f"--pipeline-name and an organization do not go together: organization "
                         f"{org.slug} loads as pipeline {org.pipeline_name}.")
    destination = getattr(args, "destination", None) or (org.destination if org else None)
    given: str | None = getattr(args, "dataset", None)
    named = given is not None
    dataset = checked_name("--dataset", given) if given is not None else (
        org.default_dataset(destination) if org else None)
    pipeline_name = getattr(args, "pipeline_name", None)
    pipeline_name = checked_name("--pipeline-name", pipeline_name) if pipeline_name is not None else None
    if getattr(args, "full_refresh", False) and getattr(args, "resources", None):
        raise UsageError(
            "--full-refresh replaces the whole warehouse with a new load; with --resources the new "
            "one would hold only those resources' tables. What the API no longer serves (runs past "
            "30 days, insights past 90, past snapshots) could not come back. To reload some "
            "resources, drop them with dlt's own tool (`dlt pipeline <pipeline> drop <resource>`; "
            "docs/operating.md) and run again, or leave out --resources.")
    return Settings(
        destination=destination,
        dataset=dataset or DEFAULT_DATASET,
        dataset_named=named or bool(org and org.dataset),
        pipeline_name=org.pipeline_name if org else (pipeline_name or DEFAULT_PIPELINE),
        resources=_resources(getattr(args, "resources", None)),
        full_refresh=bool(getattr(args, "full_refresh", False)),
        pipelines_dir=getattr(args, "pipelines_dir", None),
        duckdb_file=getattr(args, "duckdb", None),
        dbt=bool(getattr(args, "dbt", False)),
        source_args=source_args,
    )


def checked_name(flag: str, given: str) -> str:
    """A dataset or pipeline name as it will be used; an empty one is refused.

    dlt normalises names (snake_case: `my;data` becomes `my_data`): the name is normalised here,
    once, and a change is said, so every message and table shows the name that is used.
    """
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    if not given.strip():
        raise UsageError(f"{flag} is empty; give a name, or leave the flag out for the default.")
    used = NamingConvention().normalize_identifier(given.strip())
    if used != given:
        log.warning("%s %r is used as %r (dlt's naming: lowercase letters, digits, underscores)",
                    flag, given, used)
    return used


def targets(args: argparse.Namespace) -> list[tuple[str | None, Settings]]:
    """The pipelines a reading command covers: each configured organization's (all, when any is
    configured and neither --org nor --pipeline-name picks one), else the one the flags name."""
    orgs = configured_orgs() if not (getattr(args, "org", None) or getattr(args, "pipeline_name", None)) else {}
    if getattr(args, "all_orgs", False) and not orgs:
        raise UsageError(NO_ORGS)
    if orgs:
        return [(slug, resolve(args, org)) for slug, org in orgs.items()]
    return [(getattr(args, "org", None), resolve(args))]


def reading(args: argparse.Namespace) -> tuple[Path, str]:
    """The DuckDB file and dataset a reading command (sql, dashboard) opens: --duckdb, else the
    file the pipeline of --pipeline-name / --org loads (`warehouse.location`); --dataset, else
    ARMATURE_DATASET, else the pipeline's dataset."""
    settings = resolve(args)
    file = duckdb_file(settings.pipeline_name, settings.duckdb_file)
    if file is None:
        raise UsageError("dlt's config names the DuckDB warehouse by a credentials section, not a "
                         "path; pass the file with --duckdb.")
    dataset = settings.dataset if settings.dataset_named else (
        os.environ.get(DATASET_ALIAS) or settings.dataset)
    return file.path, dataset


DATASET_ALIAS = "ARMATURE_DATASET"
NO_ORGS = ("--all-orgs: no organization is configured; add [armature.orgs.<slug>] sections to "
           ".dlt/config.toml (keys in .dlt/secrets.toml).")


def _resources(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in RESOURCE_ALIASES]
    if unknown:
        raise UsageError(
            f"unknown resource(s) {', '.join(unknown)} in --resources; choose from "
            f"{', '.join(RESOURCES)} (or a table name such as trace_spans, session_events)."
        )
    return sorted({RESOURCE_ALIASES[n] for n in names}, key=RESOURCES.index)
