"""`armature-pipeline run`: load one pipeline, one organization, or every organization in turn."""

from __future__ import annotations

import argparse
import logging

from armature_pipeline.commands import report
from armature_pipeline.commands.flags import NO_ORGS, resolve
from armature_pipeline.load.outcome import Outcome
from armature_pipeline.load.runner import run_load
from armature_pipeline.orgs import configured_orgs
from armature_pipeline.output import logs
from armature_pipeline.settings import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, EXIT_OK, LockedError, Settings, UsageError

log = logging.getLogger("armature_pipeline")


def main(args: argparse.Namespace) -> int:
    if getattr(args, "all_orgs", False):
        return run_all_orgs(args)
    return load(resolve(args))


def load(settings: Settings) -> int:
    """Load once and report what landed, or what failed and what was kept."""
    pipeline, outcome, _ = run_load(settings, after=report.after_load)
    if not outcome.ok:
        log.error("%s", outcome.message, extra={"pipeline": pipeline.pipeline_name})
    elif outcome.dbt is not None and outcome.dbt.errors:
        # the load stands; what was asked after it did not happen (a failing test alone is a warning)
        return EXIT_FAILED
    return outcome.code


def run_all_orgs(args: argparse.Namespace) -> int:
    """Load each configured organization in turn, each its own pipeline; one failing does
    not stop the others. Exit 0 when every one loaded, else 1; the summary says which."""
    orgs = configured_orgs()
    if not orgs:
        raise UsageError(NO_ORGS)
    results: dict[str, int] = {}
    for slug, org in orgs.items():
        log.info("organization %s: loading as pipeline %s", slug, org.pipeline_name)
        try:
            results[slug] = load(resolve(args, org))
        except UsageError as exc:
            log.error("organization %s: %s", slug, exc, extra={"organization": slug})
            results[slug] = EXIT_CONFIG
        except LockedError as exc:
            log.error("organization %s: %s", slug, exc, extra={"organization": slug})
            results[slug] = EXIT_LOCKED
    failed = {slug: code for slug, code in results.items() if code != EXIT_OK}
    logs.report(log, "Organizations: %d of %d loaded%s", len(results) - len(failed), len(results),
                f"; failed: {', '.join(f'{s} (exit {c})' for s, c in failed.items())}" if failed else ".",
                final=True, loaded=len(results) - len(failed), failed=failed)
    return EXIT_FAILED if failed else EXIT_OK


__all__ = ["Outcome", "load", "main", "run_all_orgs"]
