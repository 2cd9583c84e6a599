"""Where a pipeline's warehouse is: one answer for `run`, `status`, `sql`, `dashboard`, the demo,
`--org` and Dagster.

The default destination is DuckDB, in a file named after the pipeline in the current folder
(`armature.duckdb`; an organization's `armature_<slug>.duckdb`), as dlt names it. dlt's own
setting moves it, read the way dlt reads it for that pipeline: `[<pipeline>.destination.duckdb]
credentials` first, then `[destination.duckdb] credentials` (or their environment variables,
e.g. `DESTINATION__DUCKDB__CREDENTIALS`); `ARMATURE_DUCKDB` is kept as an alias, read last. A
flag (`--duckdb`) or the demo names a file outright.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
from dlt.common.configuration.providers.toml import TomlProviderReadException

DUCKDB_ALIAS = "ARMATURE_DUCKDB"
SETTING = "destination.duckdb.credentials"


@dataclass(frozen=True)
class DuckDbFile:
    """A pipeline's DuckDB file, and whether it was configured for every pipeline at once
    (then organizations share it, each in a dataset of its own)."""

    path: Path
    shared: bool = False


def duckdb_file(pipeline_name: str, given: str | Path | None = None) -> DuckDbFile | None:
    """The pipeline's DuckDB file, absolute; None when dlt's config gives a whole credentials
    section rather than a path (dlt then opens what it says)."""
    if given:
        return DuckDbFile(_absolute(given))
    scoped = _configured(f"{pipeline_name}.{SETTING}")
    if scoped is not None:
        return DuckDbFile(_absolute(scoped)) if isinstance(scoped, str) else None
    shared = _configured(SETTING)
    if shared is not None:
        return DuckDbFile(_absolute(shared), shared=True) if isinstance(shared, str) else None
    alias = os.environ.get(DUCKDB_ALIAS)
    if alias:
        return DuckDbFile(_absolute(alias), shared=True)
    return DuckDbFile(_absolute(f"{pipeline_name}.duckdb"))


def _configured(key: str) -> Any:
    try:
        value: Any = dlt.secrets.get(key)
    except TomlProviderReadException:
        raise  # a broken settings file: the command says so
    except Exception:
        return None
    return value or None  # an empty setting means none


def _absolute(path: str | Path) -> Path:
    # absolute: dlt otherwise resolves a relative path against the folder the pipeline was
    # first created in, not the current one
    return Path(os.path.abspath(os.path.expanduser(str(path))))
