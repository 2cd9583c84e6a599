"""Exit codes, the errors that choose them, and the resolved settings of a command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3
DEFAULT_PIPELINE = "armature"
DEFAULT_DATASET = "armature_data"
# Before this dataset name, the default was the pipeline's name: `armature` in `armature.duckdb`.
OLD_DEFAULT_DATASET = "armature"
DEMO_PIPELINE = "armature_demo"


class UsageError(Exception):
    """Bad flags or configuration: exit 2, nothing written."""


class LockedError(Exception):
    """Another run of the same pipeline holds the lock: exit 3."""


class Terminated(KeyboardInterrupt):
    """The process was asked to end (SIGTERM): exit 1, the run recorded as failed. A
    KeyboardInterrupt, so that no `except Exception` on the way swallows it.

    A library can still turn it into an error of its own (DuckDB ends the query it was running
    with `RuntimeError: Query interrupted`, which a step then reports as its failure): `asked`
    remembers the signal, and `raise_if_asked` ends the run as terminated wherever that went.
    """

    asked: ClassVar[bool] = False

    @classmethod
    def raise_if_asked(cls) -> None:
        if cls.asked:
            raise cls()


@dataclass
class Settings:
    """Where to load, resolved from flags; what to read is dlt's config plus `source_args`."""

    destination: str | None
    dataset: str
    pipeline_name: str
    resources: list[str] | None = None
    full_refresh: bool = False
    pipelines_dir: str | None = None
    dataset_named: bool = False  # given by the user (flag), not the default
    duckdb_file: str | None = None  # a DuckDB file named outright (--duckdb, the demo's own)
    dbt: bool = False  # run the dbt package after a successful load (--dbt)
    # only what a flag actually set (base_url, api_key, allow_insecure_http); the rest is
    # resolved by dlt from `sources.armature`. Never in a repr: it may hold the key.
    source_args: dict[str, Any] = field(default_factory=dict, repr=False)
