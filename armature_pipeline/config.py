"""The command's own settings for a DuckDB warehouse, resolved once, the dlt way.

    [armature.duckdb]         (or ARMATURE__DUCKDB__<NAME>)
    wait_s = 30               how long a load waits, at each step, for a reader to let go
    memory_limit = "200MB"    DuckDB's memory cap, so a large merge spills to disk

`ARMATURE_DUCKDB_WAIT_S` and `ARMATURE_DUCKDB_MEMORY_LIMIT` are kept as aliases, read here and
nowhere else, last (after dlt's own keys and files), like `ARMATURE_API_KEY` for the source.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.specs import BaseConfiguration

from armature_pipeline.settings import UsageError

SECTIONS = ("armature", "duckdb")
WAIT_ALIAS, MEMORY_ALIAS = "ARMATURE_DUCKDB_WAIT_S", "ARMATURE_DUCKDB_MEMORY_LIMIT"
WAIT_DEFAULT_S = 30.0
# the load's Python side holds ~0.3 GB; bench/NOTES.md has the peaks at other caps
MEMORY_DEFAULT = "200MB"
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B|bytes)", re.IGNORECASE)


@configspec
class DuckDbSettings(BaseConfiguration):
    """How a load treats a DuckDB warehouse file."""

    wait_s: Optional[float] = None
    memory_limit: Optional[str] = None

    def on_resolved(self) -> None:
        self.wait_s = _seconds(self.wait_s, WAIT_ALIAS)
        self.memory_limit = _memory(self.memory_limit, MEMORY_ALIAS)


def duckdb_settings() -> DuckDbSettings:
    """The DuckDB settings as configured.

    Raises:
        UsageError: a value that is not a number of seconds or a memory size, naming where it
            is set and what it should look like.
    """
    try:
        return resolve_configuration(DuckDbSettings(), sections=SECTIONS)
    except ConfigurationException as exc:
        raise UsageError(f"[armature.duckdb] in .dlt/config.toml: {exc}") from None


def _seconds(value: float | None, alias: str) -> float:
    raw: object = value if value is not None else os.environ.get(alias) or None
    if raw is None:
        return WAIT_DEFAULT_S
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UsageError(f"the DuckDB wait is {raw!r}, not a number of seconds (0 or more); set "
                         f"[armature.duckdb] wait_s or {alias}, or unset it for the default of "
                         f"{WAIT_DEFAULT_S:.0f} s.")
    return seconds


def _memory(value: str | None, alias: str) -> str:
    raw = value if value is not None else os.environ.get(alias) or MEMORY_DEFAULT
    if not MEMORY_SIZE.fullmatch(str(raw).strip()):
        raise UsageError(f"the DuckDB memory limit is {raw!r}, not a memory size; set "
                         f"[armature.duckdb] memory_limit or {alias} in DuckDB's form, e.g. 512MB "
                         f"or 2GB (default {MEMORY_DEFAULT}).")
    return str(raw).strip()
