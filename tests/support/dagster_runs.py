"""What the Dagster tests do to the code location: write the organizations, tick the partition
sensor as the daemon would, materialise one organization's load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from armature_dagster.assets import build_load_assets
from armature_dagster.automation import org_partitions
from armature_dagster.orgs import ArmatureLoads
from armature_dagster.specs import ORGS
from armature_sim.server import RunningSim
from tests.support.orgs import write_orgs

NO_DELAY = dg.RetryPolicy(max_retries=2, delay=0)


def configure(project: Path, sims: dict[str, RunningSim], keys: dict[str, str] | None = None) -> None:
    write_orgs(project, {slug: (sim.api_url, (keys or {}).get(slug, sim.api_key)) for slug, sim in sims.items()})


def tick(instance: Any) -> Any:
    """Evaluate the partition sensor once and apply what it asks, as the daemon does."""
    result = org_partitions(dg.build_sensor_context(instance=instance))
    for request in getattr(result, "dynamic_partitions_requests", None) or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(ORGS.name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(ORGS.name, key)
    return result


def materialize(instance: Any, slug: str, loads: ArmatureLoads | None = None) -> Any:
    return dg.materialize([build_load_assets(retry_policy=NO_DELAY)], instance=instance,
                          partition_key=slug, resources={"armature": loads or ArmatureLoads()},
                          raise_on_error=False)
