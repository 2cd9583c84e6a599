"""The code location's definitions: the load multi-asset with its checks, the dbt package's
models and checks (materialised on demand), the job, the partition and freshness sensors, the
schedule and the resource."""

from __future__ import annotations

import dagster as dg

from armature_dagster.assets import POOL, RETRY_POLICY, build_load_assets
from armature_dagster.automation import build_job, build_schedule, org_partitions
from armature_dagster.dbt_assets import build_dbt_assets
from armature_dagster.freshness import freshness
from armature_dagster.orgs import ArmatureLoads


def build_definitions(
    loads: ArmatureLoads | None = None, retry_policy: dg.RetryPolicy = RETRY_POLICY, pool: str = POOL,
) -> dg.Definitions:
    """Everything the code location serves; the arguments override the defaults (tests use a
    retry policy without delays)."""
    assets = build_load_assets(retry_policy=retry_policy, pool=pool)
    job = build_job(assets)
    return dg.Definitions(
        assets=[assets, build_dbt_assets()], jobs=[job], sensors=[org_partitions, freshness],
        schedules=[build_schedule(job)],
        resources={"armature": loads or ArmatureLoads()},
    )


defs = build_definitions()
