"""What each `armature-pipeline` command does; argument parsing lives in armature_pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import dlt

from armature_source import RESOURCE_ALIASES, RESOURCES
from armature_source.credentials import resolve_connection
from armature_source.source import DEFAULT_MAX_LOAD_MINUTES, load_deadline_minutes
from armature_source.errors import ConfigError
from armature_pipeline.load import last_run, loader as loading
from armature_pipeline.output import logs, progress, report
from armature_pipeline.load.lock import pipeline_lock
from armature_pipeline.warehouse.destination import duckdb_at, make_pipeline
from armature_pipeline.orgs import Org, configured_orgs, pick
from armature_pipeline.settings import (
    DEFAULT_DATASET,
    DEFAULT_PIPELINE,
    DEMO_PIPELINE,
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    LockedError,
    Settings,
    UsageError,
)

log = logging.getLogger("armature_pipeline")

# time a load's resources get, after max_load_minutes, to finish the requests in flight and
# the destination to finish its step, before the process ends itself
WATCHDOG_GRACE_S = 300.0


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
    return Settings(
        destination=destination,
        dataset=dataset or DEFAULT_DATASET,
        dataset_named=named or bool(org and org.dataset),
        pipeline_name=org.pipeline_name if org else (pipeline_name or DEFAULT_PIPELINE),
        resources=_resources(getattr(args, "resources", None)),
        full_refresh=bool(getattr(args, "full_refresh", False)),
        pipelines_dir=getattr(args, "pipelines_dir", None),
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


@contextmanager
def watchdog(settings: Settings) -> Iterator[None]:
    """End the process if a load outlives `max_load_minutes` by `WATCHDOG_GRACE_S`.

    The resources stop by themselves when the time is up; this is for a load stuck where they
    cannot look (a destination that hangs). Ending then is as safe as a kill: the next run
    completes the data. A cron line can never pile up behind a hung run.
    """
    try:
        minutes = load_deadline_minutes()
    except Exception:  # a bad value is reported by the source itself
        minutes = DEFAULT_MAX_LOAD_MINUTES
    limit = minutes * 60 + WATCHDOG_GRACE_S

    def give_up() -> None:
        log.error("the load is still running %.0f s after max_load_minutes (%g) ran out: ending "
                  "the process so the lock is free; the next run completes the data.",
                  WATCHDOG_GRACE_S, minutes)
        logging.shutdown()
        os._exit(EXIT_FAILED)

    timer = threading.Timer(limit, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run(args: argparse.Namespace) -> int:
    if getattr(args, "all_orgs", False):
        return run_all_orgs(args)
    settings = resolve(args)
    pipeline = make_pipeline(settings)
    with pipeline_lock(pipeline):
        return load(pipeline, settings)


def run_all_orgs(args: argparse.Namespace) -> int:
    """Load each configured organization in turn, each its own pipeline; one failing does
    not stop the others. Exit 0 when every one loaded, else 1; the summary says which."""
    orgs = configured_orgs()
    if not orgs:
        raise UsageError("--all-orgs: no organization is configured; add [armature.orgs.<slug>] "
                         "sections to .dlt/config.toml (keys in .dlt/secrets.toml).")
    results: dict[str, tuple[int, str]] = {}
    for slug, org in orgs.items():
        log.info("organization %s: loading as pipeline %s", slug, org.pipeline_name)
        try:
            settings = resolve(args, org)
            pipeline = make_pipeline(settings)
            with pipeline_lock(pipeline):
                results[slug] = (load(pipeline, settings), "")
        except UsageError as exc:
            log.error("organization %s: %s", slug, exc, extra={"organization": slug})
            results[slug] = (EXIT_CONFIG, str(exc))
        except LockedError as exc:
            log.error("organization %s: %s", slug, exc, extra={"organization": slug})
            results[slug] = (EXIT_LOCKED, str(exc))
    failed = {slug: code for slug, (code, _) in results.items() if code != EXIT_OK}
    logs.report(log, "Organizations: %d of %d loaded%s", len(results) - len(failed), len(results),
                f"; failed: {', '.join(f'{s} (exit {c})' for s, c in failed.items())}" if failed else ".",
                final=True, loaded=len(results) - len(failed), failed=failed)
    return EXIT_FAILED if failed else EXIT_OK


def load(pipeline: dlt.Pipeline, settings: Settings) -> int:
    """Load once and report what landed, or what failed and what was kept; the outcome is
    kept for `status` (armature_pipeline/load/last_run.py)."""
    started = time.monotonic()
    try:
        with watchdog(settings), progress.shown():
            outcome = loading.load(pipeline, settings)
    except UsageError as exc:
        last_run.record(pipeline.pipelines_dir, pipeline.pipeline_name, EXIT_CONFIG, str(exc),
                        time.monotonic() - started)
        raise
    seconds = time.monotonic() - started
    last_run.record(pipeline.pipelines_dir, pipeline.pipeline_name, outcome.code, outcome.message,
                    seconds, outcome.load_ids, outcome.rows)
    if outcome.ok:
        report.after_load(pipeline, outcome, seconds)
    else:
        log.error("%s", outcome.message, extra={"pipeline": pipeline.pipeline_name})
    return outcome.code


def status(args: argparse.Namespace) -> int:
    """Each configured organization's pipeline (all, when any is configured and neither
    --org nor --pipeline-name picks one), else the one the flags name."""
    from armature_pipeline.status.check import show

    orgs = configured_orgs() if not (args.org or args.pipeline_name) else {}
    if args.all_orgs and not orgs:
        raise UsageError("--all-orgs: no organization is configured; add [armature.orgs.<slug>] "
                         "sections to .dlt/config.toml (keys in .dlt/secrets.toml).")
    targets: list[tuple[str | None, Settings]] = (
        [(slug, resolve(args, org)) for slug, org in orgs.items()] if orgs
        else [(args.org, resolve(args))])
    return show(targets, as_json=args.json, max_age_s=args.max_age)


def check(args: argparse.Namespace) -> int:
    from armature_source.contract.check import check_host

    settings = resolve(args)
    try:
        return check_host(resolve_connection(**settings.source_args))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def demo(args: argparse.Namespace) -> int:
    from armature_sim.server import spawn

    log.info("Starting the Armature simulator (%d runs over 30 days) ...", args.runs)
    with spawn(runs=args.runs, latency_ms=args.latency_ms) as sim:
        log.info("Simulator listening at %s (key %s).", sim.api_url, sim.api_key)
        settings = Settings(
            destination="duckdb", dataset=DEFAULT_DATASET, pipeline_name=DEMO_PIPELINE,
            full_refresh=True,
            source_args={"base_url": sim.api_url, "api_key": sim.api_key},
        )
        # always its own file, whatever dlt's config names for the real warehouse
        pipeline = make_pipeline(settings, duckdb_at(f"{DEMO_PIPELINE}.duckdb", DEFAULT_DATASET))
        with pipeline_lock(pipeline):
            code = load(pipeline, settings)
    if code == EXIT_OK:
        report.demo_summary(pipeline)
    return code
