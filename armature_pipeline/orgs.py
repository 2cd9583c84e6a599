"""Several Armature organizations, each loaded as its own pipeline.

dlt's guidance for many tenants is one pipeline per tenant: own name, own state, own lock,
own dataset or DuckDB file. Organizations are listed in dlt's config, one section each:

    # .dlt/config.toml                      # .dlt/secrets.toml
    [armature.orgs.acme]                    [armature.orgs.acme]
    base_url = "https://acme.armature.app"  api_key = "amt_<key-id>_<secret>"
    destination = "postgres"   # optional
    dataset = "armature_data"  # optional

Organization `acme` loads as pipeline `armature_acme`, by default into `armature_acme.duckdb`.
A key is a secret: it is read from `.dlt/secrets.toml` or the environment
(`ARMATURE__ORGS__ACME__API_KEY`), never from config.toml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import dlt

from armature_pipeline.settings import DEFAULT_DATASET, DEFAULT_PIPELINE, Settings, UsageError
from armature_pipeline.warehouse.location import duckdb_file

SECTION = "armature.orgs"
SLUG = re.compile(r"[a-z0-9][a-z0-9_]{0,62}")
WHERE = "[armature.orgs.<slug>] in .dlt/config.toml (the key in .dlt/secrets.toml)"


@dataclass(frozen=True)
class Org:
    """One organization's settings; what is None falls back to dlt's config for the source."""

    slug: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    destination: str | None = None
    dataset: str | None = None

    @property
    def pipeline_name(self) -> str:
        return f"{DEFAULT_PIPELINE}_{self.slug}"

    def default_dataset(self, destination: str | None = None) -> str:
        """The organization's dataset: its own setting; else `armature_data` in its own DuckDB
        file, or `armature_<slug>` on a shared warehouse (any other destination, or a DuckDB file
        configured for every pipeline), so organizations never mix."""
        if self.dataset:
            return self.dataset
        if (destination or self.destination or "duckdb") == "duckdb":
            file = duckdb_file(self.pipeline_name)
            if file is not None and not file.shared:
                return DEFAULT_DATASET
        return self.pipeline_name

    def source_args(self) -> dict[str, Any]:
        return {k: v for k, v in (("base_url", self.base_url), ("api_key", self.api_key)) if v}

    def settings(self, *, pipelines_dir: str | None = None, resources: list[str] | None = None,
                 full_refresh: bool = False) -> Settings:
        """The settings this organization loads with (for an orchestrator; the command
        applies its flags on top)."""
        return Settings(
            destination=self.destination, dataset=self.default_dataset(),
            dataset_named=self.dataset is not None, pipeline_name=self.pipeline_name,
            resources=resources, full_refresh=full_refresh, pipelines_dir=pipelines_dir,
            source_args=self.source_args(),
        )


def configured_orgs() -> dict[str, Org]:
    """Every organization in dlt's config, checked; empty when none is configured.

    Raises:
        UsageError: a slug that cannot name a pipeline, a key in config.toml, a section that
            is not a table of settings.
    """
    sections = _sections()
    orgs = {}
    for slug in sorted({s for found in sections.values() for s in found}):
        if not SLUG.fullmatch(slug):
            raise UsageError(f"organization {slug!r} in {WHERE}: a slug is lowercase letters, "
                             "digits and underscores (it becomes the pipeline name armature_<slug>).")
        if "api_key" in _mapping(sections.get("ConfigTomlProvider", {}).get(slug), f"[{SECTION}.{slug}]"):
            raise UsageError(f"[{SECTION}.{slug}] api_key is in .dlt/config.toml; an API key is a "
                             f"secret: move it to .dlt/secrets.toml (same section) or set "
                             f"{_env_name(slug)}.")
        orgs[slug] = Org(
            slug=slug,
            base_url=_value(f"{SECTION}.{slug}.base_url"),
            api_key=_value(f"{SECTION}.{slug}.api_key", secret=True),
            destination=_value(f"{SECTION}.{slug}.destination"),
            dataset=_value(f"{SECTION}.{slug}.dataset"),
        )
    return orgs


def _sections() -> dict[str, Mapping[str, Any]]:
    """The `[armature.orgs]` table of each config file, by provider (dlt hands out only the
    first file's table for a section, so the files are read one by one)."""
    found = {}
    for provider in dlt.config.config_providers:
        value, _ = provider.get_value("orgs", Mapping, None, "armature")
        if value is not None:
            found[type(provider).__name__] = _mapping(value)
    return found


def pick(orgs: Mapping[str, Org], slug: str) -> Org:
    """The organization named by `--org`, or a clear error listing the configured ones."""
    if slug in orgs:
        return orgs[slug]
    known = ", ".join(sorted(orgs)) or "none"
    raise UsageError(f"--org {slug}: no such organization in {WHERE}; configured: {known}.")


def _mapping(value: Any, where: str = f"[{SECTION}]") -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{where} in .dlt/config.toml must be a table of settings, not "
                         f"{type(value).__name__}.")
    return value


def _value(key: str, secret: bool = False) -> str | None:
    """A setting as dlt resolves it (environment, then secrets.toml, then config.toml for a
    plain setting; a secret only from the environment and secrets.toml)."""
    try:
        value: Any = (dlt.secrets if secret else dlt.config).get(key)
    except Exception:
        return None
    return str(value) if value not in (None, "") else None


def _env_name(slug: str) -> str:
    return f"ARMATURE__ORGS__{slug.upper()}__API_KEY"
