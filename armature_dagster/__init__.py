"""A Dagster code location for many Armature organizations: `dagster dev -m armature_dagster`.

One asset per warehouse table and reporting view, partitioned by organization (dynamic
partitions kept by a sensor from `[armature.orgs.<slug>]` in dlt's config), loaded by the
command's own load procedure; see docs/orchestration.md.
"""

from armature_dagster.definitions import build_definitions, defs

__all__ = ["build_definitions", "defs"]
