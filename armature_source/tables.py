"""The warehouse contract in code: table names, keys, write behaviour, column types.

Each table is declared once here; `columns.py` turns rows into Arrow with these types, and
the source hands the same declarations to dlt as hints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Table:
    """One warehouse table: name, key, write disposition and typed columns."""

    name: str
    key: tuple[str, ...]
    disposition: str
    columns: Mapping[str, str]

    def hints(self) -> dict[str, Any]:
        """Keyword arguments for `apply_hints` / `@dlt.resource`."""
        return {
            "table_name": self.name,
            "primary_key": list(self.key),
            "write_disposition": self.disposition,
            "columns": {
                name: {"data_type": kind, "nullable": name not in self.key}
                for name, kind in self.columns.items()
            },
        }


def _table(name: str, key: tuple[str, ...], disposition: str, /, **columns: str) -> Table:
    return Table(name, key, disposition, columns)


# Merged, not dlt's `replace`: a replace job retried after a crash mid-load inserts its row a
# second time (the truncate ran only when the package started); a merge on the key cannot.
# The result is the same "replaced" row each load.
ORGANIZATION = _table(
    "organization", ("id",), "merge",
    id="text", slug="text", name="text", actor_role="text", actor_api_key_name="text",
)
MCP_SERVERS = _table(
    "mcp_servers", ("id",), "merge",
    id="text", name="text", transport_type="text", target_kind="text", base_url="text",
    categories="json", environment="text", tools="json", created_at="timestamp",
    updated_at="timestamp",
)
WORKFLOWS = _table(
    "workflows", ("id",), "merge",
    id="text", name="text", description="text", mcp_server_id="text", state="text",
    categories="json", schedule="json", tester_model_ids="json", criteria="json",
    current_version_id="text", current_version_number="bigint",
    current_version_created_at="timestamp", created_at="timestamp", updated_at="timestamp",
    archived_at="timestamp",
)
RUNS = _table(
    "runs", ("id",), "merge",
    id="text", workflow_id="text", workflow_name="text", workflow_version_id="text",
    mcp_server_id="text", status="text", classification="text", trigger="text", model="text",
    started_at="timestamp", ended_at="timestamp", duration_ms="bigint", cost_usd="double",
    tool_call_count="bigint", baseline_run_id="text", reason="text",
)
TRACE_SPANS = _table(
    "trace_spans", ("run_id", "id"), "merge",
    run_id="text", id="text", parent_id="text", name="text", kind="text", status="text",
    started_at="timestamp", ended_at="timestamp", duration_ms="bigint", attributes="json",
)
TOOL_CALLS = _table(
    "tool_calls", ("run_id", "id"), "merge",
    run_id="text", id="text", seq="bigint", span_id="text", tool_name="text",
    arguments="json", result="json", is_error="bool", error_message="text",
    started_at="timestamp", duration_ms="bigint",
)
EVALUATIONS = _table(
    "evaluations", ("run_id",), "merge",
    run_id="text", verdict="text", classification="text", judge_model="text", summary="text",
)
EVALUATION_CRITERIA = _table(
    "evaluation_criteria", ("run_id", "criterion_id"), "merge",
    run_id="text", criterion_id="text", text="text", is_required="bool", verdict="text",
    score="double", rationale="text", excerpts="json",
)
_TOPIC_COUNTS = dict(
    session_count="bigint", tool_call_count="bigint", error_rate="double",
    frustration_score="double", trend="double",
)
TOPICS = _table(
    "topics", ("id",), "merge",
    id="text", label="text", is_unmet_demand="bool", archived="bool", **_TOPIC_COUNTS,
    counts_range="text", first_seen_at="timestamp", last_seen_at="timestamp",
    sample_intents="json",
)
TOPIC_SNAPSHOTS = _table(
    "topic_snapshots", ("topic_id", "snapshot_date", "range"), "merge",
    topic_id="text", snapshot_date="date", range="text", label="text",
    is_unmet_demand="bool", archived="bool", **_TOPIC_COUNTS, last_seen_at="timestamp",
)
_SEARCH_COUNTS = dict(occurrences="bigint", session_count="bigint")
FAILED_SEARCHES = _table(
    "failed_searches", ("id",), "merge",
    id="text", query="text", suggested_gap="text", **_SEARCH_COUNTS, counts_range="text",
    first_seen_at="timestamp", last_seen_at="timestamp", example_queries="json",
)
FAILED_SEARCH_SNAPSHOTS = _table(
    "failed_search_snapshots", ("failed_search_id", "snapshot_date", "range"), "merge",
    failed_search_id="text", snapshot_date="date", range="text", query="text",
    suggested_gap="text", **_SEARCH_COUNTS, last_seen_at="timestamp",
)
INSIGHTS_OVERVIEW = _table(
    "insights_overview", ("snapshot_date", "range"), "merge",
    snapshot_date="date", range="text", generated_at="timestamp", sessions="bigint",
    tool_calls="bigint", error_rate="double", unmet_demand_sessions="bigint",
    failed_searches="bigint", active_actors="bigint", trend="json", top_topics="json",
    top_failed_searches="json",
)
SESSIONS = _table(
    "sessions", ("id",), "merge",
    id="text", mcp_server_id="text", session_key="text", actor_id="text", raw_intent="text",
    client_name="text", client_version="text", topic_id="text", event_count="bigint",
    ok_count="bigint", error_count="bigint", started_at="timestamp", last_event_at="timestamp",
)
SESSION_EVENTS = _table(
    "session_events", ("session_id", "event_id"), "merge",
    session_id="text", event_id="text", kind="text", started_at="timestamp",
    finished_at="timestamp", duration_ms="bigint", ok="bool", error="text", metadata="json",
    result_preview="text",
)
COVERAGE = _table(
    "coverage_gaps", ("resource", "kind", "range", "detected_at"), "merge",
    resource="text", kind="text", range="text", detected_at="timestamp",
    missing_from="timestamp", missing_to="timestamp", missing_count="bigint", message="text",
)

ALL_TABLES: tuple[Table, ...] = (
    ORGANIZATION, MCP_SERVERS, WORKFLOWS, RUNS, TRACE_SPANS, TOOL_CALLS, EVALUATIONS,
    EVALUATION_CRITERIA, INSIGHTS_OVERVIEW, TOPICS, TOPIC_SNAPSHOTS, FAILED_SEARCHES,
    FAILED_SEARCH_SNAPSHOTS, SESSIONS, SESSION_EVENTS, COVERAGE,
)
