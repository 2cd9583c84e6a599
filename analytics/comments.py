"""Table and column descriptions written into the destination as comments.

The descriptions live in the dlt schema (declared in `armature_source.tables`). dlt 1.31
writes them as comments only on Databricks; on DuckDB and Postgres, which both keep comments
(`COMMENT ON TABLE / COLUMN`, shown by `duckdb_columns()`, `\\d+` and BI tools), this module
writes them after every load, like the views.
"""

from __future__ import annotations

import logging

import dlt

from analytics.views import existing_tables

COMMENTING_DESTINATIONS = frozenset({"duckdb", "postgres"})

log = logging.getLogger("armature_pipeline.views")


def apply_comments(pipeline: dlt.Pipeline) -> int:
    """Comment every described table and column present in the dataset; how many comments."""
    destination = pipeline.destination
    if destination is None or destination.destination_name not in COMMENTING_DESTINATIONS:
        return 0
    tables = pipeline.default_schema.data_tables()
    present = existing_tables(pipeline, {str(t["name"]) for t in tables})
    written = 0
    with pipeline.sql_client() as client:
        quote = client.capabilities.escape_identifier
        statements = []
        for table in tables:
            if table["name"] not in present:
                continue
            name = client.make_qualified_table_name(table["name"])
            described = table.get("description")
            if described:
                statements.append(f"comment on table {name} is {_literal(described)}")
            for column, spec in table.get("columns", {}).items():
                text = spec.get("description")
                if text:
                    statements.append(f"comment on column {name}.{quote(column)} is {_literal(text)}")
        for statement in statements:
            client.execute_sql(statement)
            written += 1
    log.info("comments: %d table and column descriptions written", written)
    return written


def _literal(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"
