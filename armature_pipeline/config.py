"""The command's own settings for a DuckDB warehouse, resolved once, the dlt way.

    [armature.duckdb]         (or ARMATURE__DUCKDB__<NAME>)
    wait_s = 30               how long a load waits, at each step, for a reader to let go
    memory_limit = "200MB"    DuckDB's memory cap, so a large merge spills to disk
    read_copy = true          publish a read copy for BI tools and our readers after a load
    read_copy_path = "{stem}_read.duckdb"
                              where (relative: beside the warehouse; {stem}: its file's stem)
    read_copy_storage_version = "v1.4.0"
                              DuckDB's storage version of the copy: the oldest that opens it

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
# DuckDB 1.4 reads storage versions up to its own; the BI drivers bundle 1.4 and 1.5
COPY_PATH_DEFAULT = "{stem}_read.duckdb"
COPY_STORAGE_DEFAULT = "v1.4.0"
STORAGE_VERSION = re.compile(r"v\d+\.\d+\.\d+")


@configspec
class DuckDbSettings(BaseConfiguration):
    """How a load treats a DuckDB warehouse file."""

    wait_s: Optional[float] = None
    memory_limit: Optional[str] = None
    read_copy: bool = True
    read_copy_path: str = COPY_PATH_DEFAULT
    read_copy_storage_version: str = COPY_STORAGE_DEFAULT

    def on_resolved(self) -> None:
        self.wait_s = _seconds(self.wait_s, WAIT_ALIAS)
        self.memory_limit = _memory(self.memory_limit, MEMORY_ALIAS)
        self.read_copy_path = _copy_path(self.read_copy_path)
        self.read_copy_storage_version = _storage_version(self.read_copy_storage_version)


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


def _copy_path(value: str) -> str:
    path = str(value or "").strip()
    if not path or not path.replace("{stem}", "x").strip("./"):
        raise UsageError(f"[armature.duckdb] read_copy_path is {value!r}, not a file name; name the "
                         f"read copy's file (default {COPY_PATH_DEFAULT!r}, beside the warehouse), "
                         "or set read_copy = false to publish none.")
    return path


def _storage_version(value: str) -> str:
    version = str(value or "").strip()
    if not STORAGE_VERSION.fullmatch(version):
        raise UsageError(f"[armature.duckdb] read_copy_storage_version is {value!r}, not a DuckDB "
                         f"storage version such as {COPY_STORAGE_DEFAULT!r} (the oldest DuckDB "
                         "release that must open the copy).")
    return version
