"""Freshness without a load: `loaded_recently` answered from each warehouse's load stamps.

The load answers the check when it runs; this sensor answers it every few minutes whether or
not loads run (a stopped schedule, a queue that never drains, a run that hangs), so a
warehouse turns stale in the UI when it is, not when the next load happens to end. It reads
what the load recorded (`armature_analytics.load_health.last_success`: the newest finished
load in `_dlt_loads`; on DuckDB through the read copy, never the file a load writes) and
reports the verdict as a runless check evaluation per organization partition.

As every sensor, it runs while the Dagster daemon does (`dagster dev` starts one).
"""

# no `from __future__ import annotations`: Dagster reads the context annotations as types
from typing import Iterable, Iterator

import dagster as dg

from armature_dagster.checks import fresh_check
from armature_dagster.orgs import ArmatureLoads, current_orgs
from armature_dagster.specs import ORGS
from armature_dagster.warehouse import last_successful_load
from armature_pipeline.settings import Settings, UsageError
from armature_pipeline.warehouse.destination import make_pipeline

EVERY_S = 300


def org_freshness(settings: Settings, stale_after_minutes: float) -> dg.AssetCheckResult | None:
    """The verdict for one organization's warehouse; None when it could not be read."""
    try:
        pipeline = make_pipeline(settings)
    except UsageError:
        return None
    known, when = last_successful_load(pipeline)
    return fresh_check(when, stale_after_minutes) if known else None


def evaluations(partitions: Iterable[str], armature: ArmatureLoads) -> Iterator[dg.AssetCheckEvaluation]:
    """`loaded_recently` for each organization that is both configured and a partition."""
    orgs = current_orgs()
    for slug in sorted(set(partitions) & set(orgs)):
        result = org_freshness(armature.settings(orgs[slug]), armature.stale_after_minutes)
        if result is None or result.asset_key is None or result.check_name is None:
            continue
        yield dg.AssetCheckEvaluation(
            asset_key=result.asset_key, check_name=result.check_name, passed=result.passed,
            metadata=result.metadata, severity=result.severity, description=result.description,
            partition=slug)


@dg.sensor(name="armature_freshness", minimum_interval_seconds=EVERY_S,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Answers loaded_recently for every organization from its warehouse's "
                       "last finished load, every 5 minutes, whether or not a load runs.")
def freshness(context: dg.SensorEvaluationContext, armature: ArmatureLoads) -> dg.SensorResult | dg.SkipReason:
    found = list(evaluations(context.instance.get_dynamic_partitions(ORGS.name or ""), armature))
    if not found:
        return dg.SkipReason("no organization partition with a readable warehouse yet")
    stale = sorted(str(e.partition) for e in found if not e.passed)
    context.log.info("%d organization(s) checked; stale: %s", len(found), ", ".join(stale) or "none")
    return dg.SensorResult(asset_events=found)
