"""The warehouse contract holds against the wire records: every column of every table comes
from a field of the record it is loaded from, with a type that fits.

A renamed or retyped record field fails here, instead of landing as an empty column. The
fields are read from the schemas generated from `armature_sim.records` (the same ones the
`/openapi` document serves, armature dialect), so the records, the document and the tables
are held together.
"""

from __future__ import annotations

from typing import Any, get_type_hints

import pytest

from armature_sim import envelopes, records
from armature_sim.http.dialect import ARMATURE
from armature_sim.schemas import component_schemas, record_schema
from armature_sim.vocabulary import OPAQUE_KEYS
from armature_source.tables import ALL_TABLES
from armature_source.tables.table import EXTRA_COLUMN

# table -> the wire record each of its rows is loaded from
LOADED_FROM: dict[str, type] = {
    "organization": records.Organization,
    "mcp_servers": records.McpServer,
    "workflows": records.Workflow,
    "runs": records.Run,
    "trace_spans": records.Span,
    "tool_calls": records.ToolCall,
    "evaluations": records.Evaluation,
    "evaluation_criteria": records.CriterionResult,
    "insights_overview": records.Overview,
    "topics": records.Topic,
    "topic_snapshots": records.Topic,
    "failed_searches": records.FailedSearch,
    "failed_search_snapshots": records.FailedSearch,
    "sessions": records.Session,
    "session_events": records.Event,
}
# the loader's own records of its loads (gaps, rejects, the ledger): no wire record behind them
NO_WIRE_RECORD = {"coverage_gaps", "rejected_records", "load_ledger"}
# columns that are not a field of the table's own record: (table, column) -> the field of
# another record (or a nested field, dotted) they are taken from
DERIVED: dict[tuple[str, str], tuple[type, str]] = {
    # /org serves the organization beside the key's actor; the row flattens both
    ("organization", "actor_role"): (envelopes.Actor, "role"),
    ("organization", "actor_api_key_name"): (envelopes.Actor, "apiKeyName"),
    # the list does not carry the tool catalog; the source's detail does
    ("mcp_servers", "tools"): (records.McpServerDetail, "tools"),
    # flattened from the nested current_version
    ("workflows", "current_version_id"): (records.Workflow, "current_version.id"),
    ("workflows", "current_version_number"): (records.Workflow, "current_version.number"),
    ("workflows", "current_version_created_at"): (records.Workflow, "current_version.created_at"),
    # children carry their parent's key, added by the loader
    ("trace_spans", "run_id"): (records.Run, "id"),
    ("tool_calls", "run_id"): (records.Run, "id"),
    ("evaluation_criteria", "run_id"): (records.Evaluation, "run_id"),
    ("session_events", "session_id"): (records.Session, "id"),
    ("topic_snapshots", "topic_id"): (records.Topic, "id"),
    ("failed_search_snapshots", "failed_search_id"): (records.FailedSearch, "id"),
    # the overview's KPIs, flattened
    **{("insights_overview", kpi): (records.Overview, f"kpis.{kpi}") for kpi in get_type_hints(records.Kpis)},
}
# columns the loader fills from the load itself, not from any record: the day it ran and the
# range it asked for (a snapshot is one row per day and range; counts depend on the range)
FROM_THE_LOAD: dict[tuple[str, str], str] = {
    ("insights_overview", "snapshot_date"): "date",
    ("topic_snapshots", "snapshot_date"): "date",
    ("topic_snapshots", "range"): "text",
    ("failed_search_snapshots", "snapshot_date"): "date",
    ("failed_search_snapshots", "range"): "text",
    ("topics", "counts_range"): "text",
    ("failed_searches", "counts_range"): "text",
}
COMPONENT_SCHEMAS = component_schemas(ARMATURE)


def _field_schema(record: type, path: str) -> dict[str, Any] | None:
    """The generated schema of a (dotted) field of a record, or None if there is no such field."""
    schema = record_schema(record, ARMATURE)
    for name in path.split("."):
        member = schema.get("properties", {}).get(name)
        if member is None:
            return None
        schema = COMPONENT_SCHEMAS[member["$ref"].rsplit("/", 1)[1]] if "$ref" in member else member
    return schema


def _fits(column_type: str, schema: dict[str, Any]) -> bool:
    """Whether a value the schema allows lands in a column of this type."""
    kind, form = schema.get("type"), schema.get("format")
    return {
        "text": kind == "string" and form not in ("date-time", "date"),
        "timestamp": kind == "string" and form == "date-time",
        "date": kind == "string" and form == "date",
        "bigint": kind == "integer",
        "double": kind in ("number", "integer"),
        "bool": kind == "boolean",
        "json": kind in ("object", "array", None),
    }[column_type]


def _source(table: str, column: str) -> tuple[type, str]:
    """The record and field a column is loaded from."""
    return DERIVED.get((table, column), (LOADED_FROM[table], column))


@pytest.mark.parametrize("table", [t for t in ALL_TABLES if t.name not in NO_WIRE_RECORD], ids=lambda t: t.name)
def test_every_column_comes_from_a_record_field_of_a_fitting_type(table: Any) -> None:
    problems = []
    for column, column_type in table.columns.items():
        if column == EXTRA_COLUMN:  # what the record carries beyond the declared columns
            if column_type != "json":
                problems.append(f"{column} holds an object of fields, so it is json")
            continue
        if (table.name, column) in FROM_THE_LOAD:
            if FROM_THE_LOAD[table.name, column] != column_type:
                problems.append(f"{column} is filled by the loader as {FROM_THE_LOAD[table.name, column]}")
            continue
        record, field = _source(table.name, column)
        schema = _field_schema(record, field)
        if schema is None:
            problems.append(f"{column}: records.{record.__name__} has no field {field!r}")
        elif not _fits(column_type, schema):
            problems.append(f"{column} ({column_type}): {record.__name__}.{field} is {schema}")
    assert not problems, f"table {table.name}: " + "; ".join(problems)


def test_every_table_is_mapped_and_every_exception_names_a_real_column() -> None:
    tables = {table.name: table for table in ALL_TABLES}
    assert set(tables) == set(LOADED_FROM) | NO_WIRE_RECORD
    for table, column in [*DERIVED, *FROM_THE_LOAD]:
        assert column in tables[table].columns, f"{table}.{column} is mapped but is not a column"


def test_the_open_ended_fields_of_the_records_are_the_opaque_keys_the_dialects_pass_through() -> None:
    # the error body's `details` is open-ended too, but no dialect re-encodes an error
    typed_dicts = [v for v in vars(records).values() if isinstance(v, type) and v.__module__ == records.__name__]
    open_ended = {
        name
        for record in typed_dicts
        for name, schema in record_schema(record, ARMATURE)["properties"].items()
        if schema.get("additionalProperties") is True or not schema.keys() - {"description"}
    }
    assert open_ended == OPAQUE_KEYS
