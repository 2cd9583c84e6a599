"""What the dashboard must show, computed from the warehouse's tables with SQL of their own
(not through the views or the dashboard's queries): headline numbers and marks per chart."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from armature_analytics.dashboard.filters import Filters
from tests.support.warehouse import REPO, Warehouse

JUDGED = "('pass', 'partial', 'fail')"
FINISHED = "('pass', 'partial', 'fail', 'error', 'timed_out')"
MARKS_SQL = {
    # a line (one path) with a point per judged day
    "pass_rate_daily": f"select 1 + count(distinct cast(started_at at time zone 'UTC' as date)) "
                       f"from {{runs}} where status in {JUDGED}",
    "pass_rate_by_workflow": f"select count(distinct workflow_id) from {{runs}} where status in {JUDGED}",
    "flakiness": f"select count(distinct workflow_id) from {{runs}} where status in {JUDGED} "
                 "and classification = 'flaky'",
    "failing_criteria": """
        select least(10, count(*)) from (
            select runs.workflow_id, criteria.criterion_id
            from evaluation_criteria as criteria join {runs} on runs.id = criteria.run_id
            group by all having count(*) filter (where criteria.verdict = 'fail') > 0)""",
    "tool_reliability": """
        select (select count(distinct tool_name) from tool_calls)
             + (select count(distinct cast(metadata as json) ->> '$.tool_name')
                from session_events where kind = 'tool_call')""",
    "cost": f"select count(*) from (select distinct workflow_id, model from {{runs}} where status in {FINISHED})",
    "session_outcomes": "select count(*) from (select distinct cast(started_at at time zone 'UTC' as date), "
                        "error_count > 0 from {sessions})",
    # the six topics with the most sessions in a 7d snapshot: a line each, a point per snapshot
    "topic_trends": """
        with leaders as (
            select topic_id from topic_snapshots where range = '7d'
            group by topic_id order by max(session_count) desc, topic_id limit 6)
        select (select count(*) from leaders) + count(*)
        from topic_snapshots where range = '7d' and topic_id in (select topic_id from leaders)""",
    "unmet_demand": "select count(*) from topics where is_unmet_demand and not coalesce(archived, false)",
    "failed_searches": "select least(10, count(*)) from failed_searches",
    # a bar per resource of the newest load in the ledger
    "load_ledger": "select count(distinct resource) from load_ledger "
                   "where load_id = (select max(load_id) from load_ledger)",
}


RUN_CHARTS = ("pass_rate_daily", "pass_rate_by_workflow", "flakiness", "failing_criteria", "cost")


@dataclass(frozen=True)
class Kept:
    """What a filter of the dashboard keeps, as SQL of the test's own over the base tables."""

    first: date | None = None
    last: date | None = None
    workflow: str | None = None
    model: str | None = None

    def _day(self, column: str = "started_at") -> list[str]:
        day = f"cast({column} at time zone 'UTC' as date)"
        return ([f"{day} >= date '{self.first}'"] if self.first else []) + (
            [f"{day} <= date '{self.last}'"] if self.last else [])

    @property
    def runs(self) -> str:
        kept = self._day() + ([f"workflow_name = '{self.workflow}'"] if self.workflow else []) + (
            [f"model = '{self.model}'"] if self.model else [])
        return f"(select * from runs where {' and '.join(kept) or 'true'}) as runs"

    @property
    def sessions(self) -> str:
        return f"(select * from sessions where {' and '.join(self._day()) or 'true'}) as sessions"


def a_filter(warehouse: Warehouse) -> tuple[Filters, Kept]:
    """The busiest workflow and its most used model, over the middle third of the days."""
    first, last = warehouse.query("select min(cast(started_at at time zone 'UTC' as date)), "
                                  "max(cast(started_at at time zone 'UTC' as date)) from runs")[0]
    third = (last - first) // 3
    workflow, model = warehouse.query(
        "select workflow_name, model from runs group by all order by count(*) desc, 1, 2 limit 1")[0]
    return (Filters(first + third, last - third, (workflow,), (model,)),
            Kept(first + third, last - third, workflow, model))


def expected_marks(warehouse: Warehouse, kept: Kept = Kept()) -> dict[str, int]:
    """Marks each chart must draw: bars, points and lines."""
    return {chart: int(warehouse.query(sql.format(runs=kept.runs, sessions=kept.sessions)
                                       if "{" in sql else sql)[0][0])
            for chart, sql in MARKS_SQL.items()}


def expected_pass_rate(warehouse: Warehouse, kept: Kept = Kept()) -> str:
    """The headline pass rate as the dashboard prints it: `75.6%`."""
    passed, judged = warehouse.query(
        f"select count(*) filter (where status = 'pass'), count(*) filter (where status in {JUDGED}) "
        f"from {kept.runs}")[0]
    return f"{100 * passed / judged:.1f}%"


def expected_flaky_recently(warehouse: Warehouse, until: date) -> int:
    """Workflows with a judged run classified flaky that started in the 7 UTC days to `until`."""
    start = until - timedelta(days=6)
    return int(warehouse.query(
        f"select count(distinct workflow_id) from runs where status in {JUDGED} and classification = 'flaky' "
        f"and cast(started_at at time zone 'UTC' as date) between date '{start}' and date '{until}'")[0][0])


def expected_cost(warehouse: Warehouse) -> str:
    total = warehouse.query(f"select sum(cost_usd) from runs where status in {FINISHED}")[0][0]
    return f"${total:,.2f}"


def dashboard(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`armature-pipeline dashboard ...` as a user runs it."""
    command = [sys.executable, "-m", "armature_pipeline.cli", "dashboard", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def export(warehouse: Warehouse, target: Path, dataset: str) -> Path:
    done = dashboard("--duckdb", str(warehouse.db_path), "--dataset", dataset, "--export", str(target))
    assert done.returncode == 0, done.stderr
    assert f"to {target}" in done.stdout
    return target
