"""The warehouse contract in code: table names, keys, write behaviour, columns, descriptions.

Each table is declared once, in the module of its part of the API (`catalog`, `run_tables`,
`insight_tables`, `health`); `columns.py` turns rows into Arrow with these types, the source
hands the same declarations to dlt as hints (descriptions and references included), and the
data dictionary and the destination's column comments are written from the dlt schema.
"""

from __future__ import annotations

from armature_source.tables.catalog import MCP_SERVERS, ORGANIZATION, WORKFLOWS
from armature_source.tables.health import COVERAGE, LOAD_LEDGER, REJECTED
from armature_source.tables.insight_tables import (
    FAILED_SEARCH_SNAPSHOTS,
    FAILED_SEARCHES,
    INSIGHTS_OVERVIEW,
    SESSION_EVENTS,
    SESSIONS,
    TOPIC_SNAPSHOTS,
    TOPICS,
)
from armature_source.tables.run_tables import (
    EVALUATION_CRITERIA,
    EVALUATIONS,
    RUNS,
    TOOL_CALLS,
    TRACE_SPANS,
)
from armature_source.tables.table import Table, table

ALL_TABLES: tuple[Table, ...] = (
    ORGANIZATION, MCP_SERVERS, WORKFLOWS, RUNS, TRACE_SPANS, TOOL_CALLS, EVALUATIONS,
    EVALUATION_CRITERIA, INSIGHTS_OVERVIEW, TOPICS, TOPIC_SNAPSHOTS, FAILED_SEARCHES,
    FAILED_SEARCH_SNAPSHOTS, SESSIONS, SESSION_EVENTS, COVERAGE, REJECTED, LOAD_LEDGER,
)
BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}
# the load's own records: every resource writes them, none owns them
HEALTH: tuple[Table, ...] = (COVERAGE, REJECTED, LOAD_LEDGER)

__all__ = [
    "ALL_TABLES", "BY_NAME", "COVERAGE", "HEALTH", "EVALUATIONS", "EVALUATION_CRITERIA",
    "FAILED_SEARCHES", "FAILED_SEARCH_SNAPSHOTS", "INSIGHTS_OVERVIEW", "LOAD_LEDGER",
    "MCP_SERVERS", "ORGANIZATION", "REJECTED", "RUNS", "SESSIONS", "SESSION_EVENTS", "TOOL_CALLS",
    "TOPICS", "TOPIC_SNAPSHOTS", "TRACE_SPANS", "Table", "WORKFLOWS", "table",
]
