"""The dbt package's models as assets downstream of the tables they read, its tests as checks.

One multi-asset per organization partition runs the package as `armature-pipeline run --dbt`
does after a load (`armature_pipeline.transform`: models built, then every test), under the
pipeline's lock, on the organization's own warehouse:

    armature/runs ── armature_dbt/flaky_workflows (the model of the view of that name) ...
    armature_dbt/flaky_workflows: check `dbt_tests_pass` (the package's tests on the tables
        it reads: runs)

Dagster lets a multi-asset check only its own assets, so the tests on a table are told on the
models that read it; every failed test is in the run's log as well.

Not dagster-dbt: it runs dbt-core inside the code location's process, and dbt's pins clash
with the project's; dbt runs in its own environment here, as it does for the command. A failing
dbt test is a check that warns (the data stays); a model dbt could not build fails the run.
"""

# no `from __future__ import annotations`: Dagster reads the context annotations as types
import warnings
from typing import Iterator

import dagster as dg

from armature_analytics.views import load_views
from armature_dagster.orgs import ArmatureLoads, current_orgs
from armature_dagster.specs import ORGS, asset_key
from armature_pipeline.load.lock import pipeline_lock
from armature_pipeline.settings import UsageError
from armature_pipeline.transform.report import dbt_after_load
from armature_pipeline.transform.runner import schema_of
from armature_pipeline.warehouse.destination import make_pipeline
from armature_source.tables import ALL_TABLES

MODEL_PREFIX = "armature_dbt"
DBT_GROUP = "armature_dbt"
CHECK_DBT = "dbt_tests_pass"
SHOWN = 20  # at most this many failed tests in a check's metadata


def model_key(name: str) -> dg.AssetKey:
    """A model's key: `armature_dbt/<view name>`, beside the view's `armature/<view name>`."""
    return dg.AssetKey([MODEL_PREFIX, name])


def model_specs() -> list[dg.AssetSpec]:
    return [dg.AssetSpec(
        model_key(view.name), description=f"{view.question} (the dbt model)",
        deps=[asset_key(name) for name in sorted(view.tables)], group_name=DBT_GROUP, kinds={"dbt"},
        skippable=True,  # not built when dbt could not build it
    ) for view in load_views()]


def dbt_check_specs() -> list[dg.AssetCheckSpec]:
    """One check per model: the package's tests on the tables it reads pass (partitioned, like
    the load's checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [dg.AssetCheckSpec(CHECK_DBT, asset=model_key(view.name), partitions_def=ORGS,
                                  description=f"The dbt package's tests on {', '.join(sorted(view.tables))} "
                                              "pass (keys, parents, statuses); warns otherwise.")
                for view in load_views()]


def table_of(test: str) -> str | None:
    """The table a dbt test is on, from its name (`source_not_null_armature_runs_id`): the
    table named first, the longest name where two start there (`runs` and `runs_x`)."""
    found = [(test.find(f"armature_{t.name}_"), -len(t.name), t.name) for t in ALL_TABLES
             if f"armature_{t.name}_" in test]
    return min(found)[2] if found else None


def build_dbt_assets() -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="armature_dbt", specs=model_specs(), check_specs=dbt_check_specs(), partitions_def=ORGS,
        can_subset=False, description="The dbt package (dbt_armature/) on an organization's "
                                       "warehouse, as `armature-pipeline run --dbt` runs it.",
    )
    def armature_dbt(context: dg.AssetExecutionContext, armature: ArmatureLoads) -> Iterator[
            dg.MaterializeResult | dg.AssetCheckResult]:
        slug = context.partition_key
        orgs = current_orgs()
        if slug not in orgs:
            raise dg.Failure(description=f"organization {slug!r} is no longer configured")
        try:
            pipeline = make_pipeline(armature.settings(orgs[slug]))
        except UsageError as exc:
            raise dg.Failure(description=f"organization {slug}: {exc}") from None
        with pipeline_lock(pipeline):
            outcome = dbt_after_load(pipeline)
        context.log.info("organization %s: %s", slug, outcome.summary())
        if outcome.errors:
            raise dg.Failure(description=f"organization {slug}: dbt failed: {'; '.join(outcome.errors)[:2000]}")
        for test in outcome.failed_tests:
            context.log.warning("organization %s: dbt test failed: %s", slug, test)
        for view in load_views():
            yield dg.MaterializeResult(asset_key=model_key(view.name), metadata={
                "dagster/table_name": f"{schema_of(pipeline)}.{view.name}"})
            failed = [test for test in outcome.failed_tests if table_of(test) in view.tables]
            yield dg.AssetCheckResult(
                asset_key=model_key(view.name), check_name=CHECK_DBT, passed=not failed,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{len(failed)} dbt test(s) failed" if failed else "every dbt test passed",
                metadata={"failed_tests": failed[:SHOWN]})

    return armature_dbt
