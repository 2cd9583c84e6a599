"""Qualify DuckDB names with the catalog when the file's name equals the dataset's.

The contract fixes both defaults: the file `armature.duckdb` (DuckDB names its catalog after
the file: `armature`) and the dataset `armature`. With dlt 1.31 on DuckDB 2.0 every statement
dlt writes as `armature.<table>` is then ambiguous ("Ambiguous reference to catalog or schema")
and the load fails. Naming the catalog too (`armature.armature.<table>`) resolves it; dlt asks
its SQL client for that component through `catalog_name()`, which for DuckDB is always empty.
Readers of such a file write `armature.armature.runs`, or `use armature.armature` first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

_original = DuckDbSqlClient.catalog_name


def _catalog_name(self: Any, quote: bool = True, casefold: bool = True) -> str | None:
    name = _original(self, quote, casefold)
    if name:
        return name
    database = getattr(self.credentials, "database", None)
    if not database or str(database) == ":memory:":
        return None
    stem = Path(str(database)).stem
    if stem != self.dataset_name:
        return None
    return self.capabilities.escape_identifier(stem) if quote else stem


class _HandledNotice(logging.Filter):
    """Drop dlt's warning about exactly the collision this module resolves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is identical to the dataset name" not in record.getMessage()


def qualify_catalog_when_it_shadows_the_dataset() -> None:
    """Install the catalog component for DuckDB files named like their dataset (idempotent)."""
    DuckDbSqlClient.catalog_name = _catalog_name  # type: ignore[method-assign]
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _HandledNotice) for f in dlt_logger.filters):
        dlt_logger.addFilter(_HandledNotice())
