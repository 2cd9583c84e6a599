"""Exit codes, the errors that choose them, and the resolved settings of a command."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3
DEFAULT_NAME = "armature"
DEMO_PIPELINE = "armature_demo"


class UsageError(Exception):
    """Bad flags or configuration: exit 2, nothing written."""


class LockedError(Exception):
    """Another run of the same pipeline holds the lock: exit 3."""


@dataclass
class Settings:
    """Where to read from and where to load, resolved from flags, environment and .dlt/."""

    base_url: str
    api_key: str
    destination: str
    dataset: str
    pipeline_name: str
    resources: list[str] | None
    full_refresh: bool
    allow_http: bool
    pipelines_dir: str | None


