"""Table and column descriptions written into the destination as comments.

The descriptions live in the dlt schema (declared in `armature_source.tables`). dlt 1.31
writes them as comments only on Databricks; on DuckDB and Postgres, which both keep comments
(`COMMENT ON TABLE / COLUMN`, shown by `duckdb_columns()`, `\\d+` and BI tools), this module
writes them after every load, like the views; only those that are missing or changed, so a
load that changed no description writes none.
"""

from __future__ import annotations

import logging
from typing import Any

import dlt

from armature_analytics import ddl
from armature_analytics.views import existing_tables, is_view

COMMENTING_DESTINATIONS = frozenset({"duckdb", "postgres"})

log = logging.getLogger("armature_pipeline.views")


def apply_comments(pipeline: dlt.Pipeline) -> int:
    """Comment every described table and column present in the dataset; how many comments."""
    destination = pipeline.destination
    if destination is None or destination.destination_name not in COMMENTING_DESTINATIONS:
        return 0
    tables = [t for t in pipeline.default_schema.data_tables() if not is_view(t)]
    present = existing_tables(pipeline, {str(t["name"]) for t in tables})
    written = 0
    with pipeline.sql_client() as client:
        quote = client.capabilities.escape_identifier
        have = _comments(client, destination.destination_name, pipeline.dataset_name)
        statements = []
        for table in tables:
            if table["name"] not in present:
                continue
            name = client.make_qualified_table_name(table["name"])
            described = table.get("description")
            if described and have.get((table["name"], None)) != described:
                statements.append(f"comment on table {name} is {_literal(described)}")
            for column, spec in table.get("columns", {}).items():
                text = spec.get("description")
                if text and have.get((table["name"], column)) != text:
                    statements.append(f"comment on column {name}.{quote(column)} is {_literal(text)}")
        for statement in statements:
            try:
                ddl.bound(client, destination.destination_name)
                client.execute_sql(statement)
            except Exception as exc:
                if not ddl.timed_out(exc):
                    raise
                ddl.skipped("a column comment", exc)
                break
            written += 1
    log.info("comments: %d table and column descriptions written", written)
    return written


# the comments a dataset holds now: (table, None) for a table's own, (table, column) for columns
COMMENTS_SQL = {
    "duckdb": """
        select table_name, null, comment from duckdb_tables() where schema_name = %s
        union all
        select table_name, column_name, comment from duckdb_columns() where schema_name = %s""",
    "postgres": """
        select c.relname, null, obj_description(c.oid, 'pg_class')
        from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s
        union all
        select c.relname, a.attname, col_description(c.oid, a.attnum)
        from pg_attribute a join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and a.attnum > 0 and not a.attisdropped""",
}


def _comments(client: Any, destination: str, dataset: str) -> dict[tuple[str, str | None], str | None]:
    rows = client.execute_sql(COMMENTS_SQL[destination], dataset, dataset) or []
    return {(table, column): comment for table, column, comment in rows}


def _literal(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"
