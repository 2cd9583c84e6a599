"""The package's property files: `sources.yml` from the table declarations, the marts' from the views.

Every table of `armature_source.tables` is a source table with the same descriptions the
destination's column comments carry, its key tested (`unique` and `not_null` on a one-column
key; `not_null` on each column and the package's `unique_key` test on a longer one), its
parent tested (`relationships`), and each column with a closed vocabulary tested
(`accepted_values`). Freshness comes from dlt's load stamp on every row (`_dlt_load_id`, the
load's start in Unix seconds). dlt's own `_dlt_loads` is declared too.
"""

from __future__ import annotations

from typing import Any

import yaml  # type: ignore[import-untyped]

from armature_analytics.dbt_package import PACKAGE_NAME, SOURCE_NAME
from armature_analytics.dictionary import DLT_COLUMNS
from armature_analytics.views import View
from armature_source.tables import ALL_TABLES, COVERAGE, REJECTED, Table
from armature_source.tables.table import LOAD_ID_COLUMN, LOAD_ID_DESCRIPTION

# the load stamp as a timestamp, per adapter (a property file has no macros, only `target`)
LOADED_AT = ("{{ 'timestamp_seconds(cast(cast(_dlt_load_id as float64) as int64))' "
             "if target.type == 'bigquery' else 'to_timestamp(cast(_dlt_load_id as decimal(20, 6)))' }}")
FRESHNESS = {"warn_after": {"count": 1, "period": "day"}, "error_after": {"count": 3, "period": "day"}}
# appended only when a load finds something: an old newest row says nothing of the loads
NOT_FRESHENED = frozenset({COVERAGE.name, REJECTED.name})
# created with the first gap a load finds (`status` reads no table as none): a test on it would
# fail every healthy warehouse, so it is declared and described, not tested
UNTESTED = frozenset({COVERAGE.name})
DLT_LOADS: dict[str, Any] = {
    "name": "_dlt_loads",
    "description": "dlt's record of each load: one row per load package, written when it completed.",
    "config": {"loaded_at_field": "inserted_at"},
    "columns": [
        {"name": "load_id", "description": "The load; every row it wrote carries it in `_dlt_load_id`.",
         "data_tests": ["unique", "not_null"]},
        {"name": "schema_name", "description": "The dlt schema loaded (`armature`)."},
        {"name": "status", "description": "0 when the load completed."},
        {"name": "inserted_at", "description": "When the load completed, UTC."},
        {"name": "schema_version_hash", "description": "The version of the dlt schema it loaded."},
    ],
}


def sources() -> dict[str, Any]:
    """The whole `sources.yml` document."""
    return {"version": 2, "sources": [{
        "name": SOURCE_NAME,
        "description": "Armature's REST API as loaded by armature-dlt (dlt): one dataset, the "
                       "tables of docs/data_dictionary.md. Set the vars `armature_schema` "
                       "(default armature_data) and `armature_database` to where it was loaded.",
        "database": "{{ var('armature_database', target.database) }}",
        "schema": "{{ var('armature_schema', 'armature_data') }}",
        "loader": "dlt",
        "config": {"freshness": FRESHNESS, "loaded_at_field": LOADED_AT},
        "tables": [_source_table(table) for table in ALL_TABLES] + [DLT_LOADS],
    }]}


def _source_table(table: Table) -> dict[str, Any]:
    tested = table.name not in UNTESTED
    long_key = len(table.key) > 1 and tested
    columns = []
    for name in table.columns:
        column: dict[str, Any] = {"name": name, "description": table.descriptions[name]}
        tests: list[Any] = []
        if not tested:
            columns.append(column)
            continue
        if name in table.key:
            tests += ["not_null"] if long_key else ["unique", "not_null"]
        if table.parent and name in table.parent[1]:
            parent, mine, theirs = table.parent
            tests.append({"relationships": {"arguments": {
                "to": f"source('{SOURCE_NAME}', '{parent}')", "field": theirs[mine.index(name)]}}})
        if name in table.values:
            tests.append({"accepted_values": {"arguments": {"values": list(table.values[name])}}})
        if tests:
            column["data_tests"] = tests
        columns.append(column)
    columns.append({"name": LOAD_ID_COLUMN, "description": LOAD_ID_DESCRIPTION,
                    **({"data_tests": ["not_null"]} if tested else {})})
    columns += [{"name": name, "description": text} for name, text in DLT_COLUMNS.items()]
    entry: dict[str, Any] = {"name": table.name, "description": table.description}
    if table.name in NOT_FRESHENED:
        entry["config"] = {"freshness": None}
    if long_key:
        entry["data_tests"] = [{f"{PACKAGE_NAME}.unique_key": {"arguments": {"columns": list(table.key)}}}]
    entry["columns"] = columns
    return entry


def marts(views: tuple[View, ...]) -> dict[str, Any]:
    """The marts' `schema.yml`: each model described by its view's question."""
    return {"version": 2, "models": [{
        "name": view.name,
        "description": f"{view.question} Built from armature_analytics/views/{view.name}.sql, "
                       "the view of the same name.",
        "columns": [{"name": column} for column in view.columns],
    } for view in views]}


def as_yaml(document: dict[str, Any]) -> str:
    """A property file's text, keys in the order written."""
    head = "# Generated by `python -m armature_analytics.dbt_package`; do not edit by hand.\n"
    return head + str(yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True))
