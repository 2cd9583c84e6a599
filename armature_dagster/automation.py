"""When loads happen: a sensor keeps one partition per configured organization, and a
schedule asks for every organization's load each 15 minutes.

Each scheduled run carries the tag `armature/host` (the organization's API host), so that a
run queue limit per unique value of that tag can keep the organizations of one host from
loading all at once; the op's pool (`assets.POOL`) bounds all of them together.
"""

# no `from __future__ import annotations`: Dagster reads the context annotations as types
from typing import TYPE_CHECKING, Iterator

import dagster as dg

from armature_dagster.orgs import current_orgs, host_of
from armature_dagster.specs import ORGS

if TYPE_CHECKING:  # what define_asset_job returns; Dagster does not export its name
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

JOB = "armature_load_job"
HOST_TAG = "armature/host"
CRON = "*/15 * * * *"


def build_job(assets: dg.AssetsDefinition) -> "UnresolvedAssetJobDefinition":
    return dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(assets),
                               description="Every table and view of one organization, one load.")


@dg.sensor(name="armature_org_partitions", minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Keeps one partition per organization in [armature.orgs.<slug>] of dlt's config.")
def org_partitions(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Add a partition for each new organization, delete those of removed ones.

    A configuration that cannot be read raises (the tick shows the error); a configuration
    with no organization at all deletes nothing: that is more likely a code location started
    in the wrong folder than every organization gone.
    """
    configured = set(current_orgs())
    known = set(context.instance.get_dynamic_partitions(ORGS.name or ""))
    if not configured:
        return dg.SkipReason("no organization in [armature.orgs.<slug>] of dlt's config (looked "
                             "in .dlt/ of the folder the code location runs in); nothing changed")
    added, removed = sorted(configured - known), sorted(known - configured)
    if not added and not removed:
        return dg.SkipReason(f"{len(known)} organization(s), unchanged")
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(ORGS.build_add_request(added))
    if removed:
        requests.append(ORGS.build_delete_request(removed))
    context.log.info("organizations added: %s; removed: %s", added or "none", removed or "none")
    return dg.SensorResult(dynamic_partitions_requests=requests)


def build_schedule(job: "UnresolvedAssetJobDefinition") -> dg.ScheduleDefinition:
    @dg.schedule(name="armature_every_15_minutes", cron_schedule=CRON, job=job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Every organization's load, each 15 minutes.")
    def every_15_minutes(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        yield from org_run_requests(context)

    return every_15_minutes


def org_run_requests(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """One run per organization that is both configured and a partition already (the
    sensor adds a new one within a minute; it is loaded from the next tick on)."""
    orgs = current_orgs()
    known = context.instance.get_dynamic_partitions(ORGS.name or "")
    due = [slug for slug in sorted(known) if slug in orgs]
    if not due:
        yield dg.SkipReason("no organization partition yet: the armature_org_partitions sensor adds them")
        return
    tick = context.scheduled_execution_time.isoformat()
    for slug in due:
        yield dg.RunRequest(run_key=f"{slug}:{tick}", partition_key=slug,
                            tags={HOST_TAG: host_of(orgs[slug])})
