"""The organizations as dlt's config lists them now, and the load settings a run uses.

A Dagster code server is a long-lived process, and dlt reads `.dlt/config.toml` and
`.dlt/secrets.toml` once per process; the files are read again here, so an organization
added to them shows up on the next sensor tick, without a deploy.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

import dagster as dg
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from armature_pipeline.orgs import Org, configured_orgs
from armature_pipeline.settings import Settings


def current_orgs() -> dict[str, Org]:
    """Every organization in dlt's config files as they are now.

    Raises:
        armature_pipeline.settings.UsageError: a section that cannot be loaded (see `configured_orgs`).
    """
    Container()[PluggableRunContext].reload_providers()
    return configured_orgs()


def host_of(org: Org) -> str:
    """The API host an organization loads from, for the per-host run limit; `default` when
    its base URL comes from `[sources.armature]` rather than its own section."""
    return (urlsplit(org.base_url).hostname or "default") if org.base_url else "default"


class ArmatureLoads(dg.ConfigurableResource):
    """Where the organizations' pipelines keep their working folders, and when a warehouse
    counts as stale. Each organization loads into its own pipeline (`armature_<slug>`) and,
    by default, its own DuckDB file `armature_<slug>.duckdb` in the code location's folder."""

    pipelines_dir: Optional[str] = None  # dlt's default (DLT_DATA_DIR/pipelines) when unset
    stale_after_minutes: float = 60.0  # four missed 15-minute loads

    def settings(self, org: Org) -> Settings:
        return org.settings(pipelines_dir=self.pipelines_dir)
