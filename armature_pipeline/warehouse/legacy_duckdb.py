"""A DuckDB destination for a warehouse made by the old defaults: `armature.duckdb` holding
dataset `armature`.

DuckDB names a file's catalog after the file, so there both the catalog and the schema are
called `armature`, and every `armature.<table>` that dlt writes is ambiguous. This destination
names the catalog too (`armature.armature.<table>`). It is used only when the dataset is named
like its DuckDB file, so such a warehouse keeps loading when named explicitly
(`--dataset armature`); `armature-pipeline status` says how to move it to `armature_data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Type

from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

from armature_pipeline.settings import DEFAULT_DATASET
from armature_pipeline.warehouse.duckdb_file import waiting_duckdb


class _CatalogQualifiedSqlClient(DuckDbSqlClient):
    def catalog_name(self, quote: bool = True, casefold: bool = True) -> str | None:
        stem = Path(str(self.credentials.database)).stem
        return self.capabilities.escape_identifier(stem) if quote else stem

    def warn_if_catalog_equals_dataset_name(self) -> None:
        """Silent: this client exists for exactly that case, and resolves it."""


class _CatalogQualifiedClient(DuckDbClient):
    def __init__(self, schema: Any, config: Any, capabilities: Any) -> None:
        super().__init__(schema, config, capabilities)
        client = self.sql_client
        self.sql_client = _CatalogQualifiedSqlClient(
            client.dataset_name, client.staging_dataset_name, config.credentials, capabilities
        )


class duckdb_named_like_its_file(waiting_duckdb):
    """The command's DuckDB destination, names qualified with the catalog (see the module)."""

    @property
    def client_class(self) -> Type[DuckDbClient]:
        return _CatalogQualifiedClient


def named_like_its_file(path: str, dataset: str) -> bool:
    """Whether a DuckDB file's catalog and the dataset share a name."""
    return Path(path).stem == dataset


def move_statements(catalog: str, old: str, new: str, tables: list[str], views: list[str]) -> list[str]:
    """DuckDB statements that move every table of dataset `old` to `new` in the same file.

    The pipeline's own tables (`_dlt_*`) move too, so the next load finds its state in `new`;
    views are dropped and created again by that load. (DuckDB 2.0 finds `drop schema
    "armature"."armature"` ambiguous too, so the old schema is emptied object by object, then
    dropped from inside the new one.)
    """
    def name(schema: str, table: str) -> str:
        return f'"{catalog}"."{schema}"."{table}"'

    return [
        f'create schema if not exists "{catalog}"."{new}";',
        *(f"create table {name(new, t)} as from {name(old, t)};" for t in tables),
        *(f"drop view {name(old, v)};" for v in views),
        *(f"drop table {name(old, t)};" for t in tables),
        f'use "{catalog}"."{new}";',
        f'drop schema "{old}";',
    ]


def legacy_note(path: str, dataset: str, tables: list[str], views: list[str]) -> list[str]:
    """For a DuckDB dataset named like its file (the old default): how to move it."""
    if not named_like_its_file(path, dataset) or not tables:
        return []
    catalog = Path(path).stem
    statements = move_statements(catalog, dataset, DEFAULT_DATASET, tables, views)
    return [
        f"note: dataset {dataset!r} shares its name with the DuckDB file "
        f"{Path(path).name} (the old default), so readers must write "
        f"{catalog}.{dataset}.<table>. To move it to {DEFAULT_DATASET!r}, the "
        "default now, stop the scheduled loads, run these statements on the file with "
        f"`armature-pipeline sql --duckdb {Path(path).name} --write` (they are read from "
        "standard input), then load without --dataset:",
        *(f"  {statement}" for statement in statements),
    ]
