"""The load as one multi-asset: every table and view of one organization, materialised by
one run of the command's own load (`armature_pipeline.load.runner.run_load`).

    partition (org slug) -> its settings -> `run_load` (lock, load, and, still under the lock,
        read the warehouse) -> one materialization per table (rows written, rows in total) and
        per view -> the three checks

A failure becomes a `dagster.Failure` whose message is the command's: exit 2 (configuration:
a rejected key, a bad URL) is never retried; exit 1 (the load failed; nothing half-written is
kept) and exit 3 (another run holds the pipeline's lock) go to the retry policy.
"""

# no `from __future__ import annotations`: Dagster reads the context annotations as types
from typing import Iterator

import dagster as dg
import dlt

from armature_dagster.checks import load_checks
from armature_dagster.freshness import org_freshness
from armature_dagster.orgs import ArmatureLoads, current_orgs
from armature_dagster.specs import ORGS, asset_key, asset_specs, check_specs
from armature_dagster.warehouse import Facts, read_facts
from armature_pipeline.load.outcome import Outcome
from armature_pipeline.load.runner import run_load
from armature_pipeline.orgs import Org
from armature_pipeline.settings import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_LOCKED,
    LockedError,
    Settings,
    UsageError,
)

# the pool that org runs share: its limit is how many organizations load at once
POOL = "armature_api"
# exponential from a minute: a lock or an unreachable host has usually cleared by then, and
# the 15-minute schedule is the next chance anyway
RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL,
                              jitter=dg.Jitter.PLUS_MINUS)

Event = dg.MaterializeResult | dg.AssetCheckResult


def build_load_assets(retry_policy: dg.RetryPolicy = RETRY_POLICY, pool: str = POOL) -> dg.AssetsDefinition:
    """The multi-asset of every table and view, partitioned by organization."""

    @dg.multi_asset(
        name="armature_load", specs=asset_specs(), check_specs=check_specs(),
        partitions_def=ORGS, can_subset=False, retry_policy=retry_policy, pool=pool,
        description="One load of an organization's Armature API into its warehouse, as "
                    "`armature-pipeline run --org <slug>` does it.",
    )
    def armature_load(context: dg.AssetExecutionContext, armature: ArmatureLoads) -> Iterator[Event]:
        yield from load_org(context, armature)

    return armature_load


def load_org(context: dg.AssetExecutionContext, armature: ArmatureLoads) -> Iterator[Event]:
    """Load the partition's organization once; yield what landed, or fail with its message."""
    slug = context.partition_key
    pipeline: dlt.Pipeline | None = None
    settings: Settings | None = None
    try:
        settings = armature.settings(_org(slug))
        pipeline, outcome, facts = run_load(settings, after=_facts)
    except UsageError as exc:
        yield from _freshness_after_failure(settings, armature)
        raise _failure(slug, EXIT_CONFIG, str(exc)) from None
    except LockedError as exc:
        raise _failure(slug, EXIT_LOCKED, str(exc)) from None
    if facts is None:
        yield from _freshness_after_failure(settings, armature)
        raise _failure(slug, EXIT_FAILED, outcome.message, retry=outcome.transient)
    context.log.info("organization %s: %s (load %s)", slug, outcome.message, ", ".join(outcome.load_ids))
    yield from _materializations(settings, outcome, facts)
    yield from load_checks(facts, armature.stale_after_minutes)


def _org(slug: str) -> Org:
    orgs = current_orgs()
    if slug not in orgs:
        raise UsageError(f"organization {slug!r} is no longer in [armature.orgs.{slug}] of "
                         "dlt's config; the partition sensor removes its partition on its next tick.")
    return orgs[slug]


def _facts(pipeline: dlt.Pipeline, outcome: Outcome) -> Facts | None:
    """What the load wrote, read while its lock is still held."""
    return read_facts(pipeline, outcome.load_ids) if outcome.ok else None


def _materializations(settings: Settings, outcome: Outcome, facts: Facts) -> Iterator[dg.MaterializeResult]:
    common = {"armature/pipeline": settings.pipeline_name, "armature/load_ids": ", ".join(outcome.load_ids)}
    for table, total in facts.totals.items():
        yield dg.MaterializeResult(asset_key=asset_key(table), metadata={
            **common,
            "rows_written": outcome.rows.get(table, 0),
            "dagster/row_count": total,
            "dagster/table_name": f"{settings.dataset}.{table}",
        })
    for view in outcome.views:
        yield dg.MaterializeResult(asset_key=asset_key(view), metadata={
            **common, "dagster/table_name": f"{settings.dataset}.{view}"})


def _freshness_after_failure(settings: Settings | None, armature: ArmatureLoads) -> Iterator[dg.AssetCheckResult]:
    """The freshness verdict when the load failed: how long the warehouse has gone without."""
    verdict = org_freshness(settings, armature.stale_after_minutes) if settings else None
    if verdict is not None:
        yield verdict


def _failure(slug: str, code: int, message: str, retry: bool = True) -> dg.Failure:
    """Our failure as Dagster's: retried only when running again soon may help."""
    return dg.Failure(
        description=f"organization {slug}: {message}",
        metadata={"exit_code": code, "organization": slug},
        allow_retries=retry and code != EXIT_CONFIG,
    )
