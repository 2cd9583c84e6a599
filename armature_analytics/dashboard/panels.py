"""What each panel of the dashboard reads: one query over the reporting views of a snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from armature_analytics.health import has_table


@dataclass(frozen=True)
class Query:
    """One panel's data: the views it reads and the SQL over them."""

    views: tuple[str, ...]
    sql: str


QUERIES: dict[str, Query] = {
    "pass_rate_daily": Query(("workflow_pass_rate_daily",), """
        select run_date as day, sum(passed) as passed, sum(judged_runs) as judged_runs,
               sum(errored) + sum(timed_out) as left_out,
               sum(passed) / nullif(sum(judged_runs), 0) as pass_rate
        from workflow_pass_rate_daily
        group by run_date
        order by run_date"""),
    "pass_rate_by_workflow": Query(("workflow_pass_rate_daily",), """
        select workflow_name, sum(judged_runs) as judged_runs, sum(passed) as passed,
               sum(errored) as errored, sum(timed_out) as timed_out,
               sum(passed) / nullif(sum(judged_runs), 0) as pass_rate
        from workflow_pass_rate_daily
        group by workflow_name
        having sum(judged_runs) > 0
        order by pass_rate, workflow_name"""),
    "flakiness": Query(("flaky_workflows",), """
        select workflow_name, judged_runs, flaky_runs, flaky_share, verdict_change_rate, pass_rate
        from flaky_workflows
        order by flaky_share desc, workflow_name"""),
    "failing_criteria": Query(("failing_criteria",), """
        select workflow_name, criterion_text, is_required, evaluations, failed, fail_rate
        from failing_criteria
        where failed > 0
        order by failed desc, fail_rate desc, workflow_name, criterion_text
        limit 10"""),
    "tool_reliability": Query(("tool_reliability",), """
        select source, tool_name, calls, errors, error_rate, p50_duration_ms, p95_duration_ms
        from tool_reliability
        order by source, error_rate desc, tool_name"""),
    "cost": Query(("cost_by_workflow_model",), """
        select workflow_name, model, finished_runs, passed, total_cost_usd, avg_cost_usd,
               cost_per_pass_usd
        from cost_by_workflow_model
        order by workflow_name, model"""),
    "topic_trends": Query(("topic_trends",), """
        with leaders as (
            select topic_id, max(session_count) as most
            from topic_trends
            where range = '7d'
            group by topic_id
            order by most desc, topic_id
            limit 6
        )
        select trends.snapshot_date as day, trends.label, trends.session_count,
               trends.session_count_change, trends.trend
        from topic_trends as trends
        inner join leaders on leaders.topic_id = trends.topic_id
        where trends.range = '7d'
        order by trends.snapshot_date, trends.session_count desc"""),
    "unmet_demand": Query(("unmet_demand",), """
        select label, session_count, counts_range, frustration_score, sessions_loaded, example_intent
        from unmet_demand
        order by session_count desc, label"""),
    "failed_searches": Query(("failed_search_gaps",), """
        select query, suggested_gap, occurrences, session_count, counts_range, last_seen_at
        from failed_search_gaps
        order by occurrences desc, query
        limit 10"""),
    "session_outcomes": Query(("session_outcomes_daily",), """
        select session_date as day, sessions, clean_sessions, sessions_with_errors,
               frustrated_sessions, unmet_demand_sessions, active_actors, error_rate
        from session_outcomes_daily
        order by session_date"""),
}


def read(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame | None:
    """A panel's rows; None when a view it reads is not in the warehouse (not loaded yet)."""
    query = QUERIES[name]
    if not all(has_table(con, view) for view in query.views):
        return None
    return con.execute(query.sql).df()


def read_all(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame | None]:
    """Every panel's rows, by panel name."""
    return {name: read(con, name) for name in QUERIES}


def flaky_recently(con: duckdb.DuckDBPyConnection, until: date) -> int | None:
    """Workflows with a judged run classified flaky in the 7 days up to `until` (UTC days)."""
    if not has_table(con, "runs"):
        return None
    found = con.execute(
        "select count(distinct workflow_id) from runs where status in ('pass', 'partial', 'fail') "
        "and classification = 'flaky' "
        "and cast(started_at at time zone 'UTC' as date) between ? - 6 and ?", [until, until]).fetchone()
    return int(found[0]) if found else 0
