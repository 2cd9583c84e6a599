"""The reporting views against numbers computed independently: pandas over the raw tables, and
the simulator's ground truth."""

from __future__ import annotations

import logging
import re
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pandas as pd
import pytest

from armature_analytics.views import VIEWS_DIR, apply_views, load_views
from armature_pipeline.warehouse.destination import duckdb_at
from armature_sim.server import RunningSim
from tests.support.analytics_warehouse import (
    assert_same_rows,
    json_field,
    raw,
    rows_of,
    utc_date,
    view_names,
    view_rows,
)
from tests.support.warehouse import DATASET, Warehouse

TERMINAL = ["pass", "partial", "fail", "error", "timed_out"]
JUDGED = ["pass", "partial", "fail"]


def count_of(status: str) -> Any:
    return lambda values: int((values == status).sum())


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def test_every_view_file_becomes_a_view_after_a_load(sample_warehouse: Warehouse) -> None:
    files = sorted(path.stem for path in VIEWS_DIR.glob("*.sql"))
    assert len(files) == 9
    assert sample_warehouse.created_views == files  # type: ignore[attr-defined]
    assert view_names(sample_warehouse) == set(files)


def test_each_view_file_is_one_view_ending_in_an_explicit_column_list() -> None:
    for view in load_views():
        text = (VIEWS_DIR / f"{view.name}.sql").read_text()
        code = re.sub(r"--.*|'[^']*'", "", text)
        assert code == code.lower(), f"{view.name}: write SQL in lowercase"
        assert f"create or replace view {view.name} as" in text
        assert "final as (" in text and text.rstrip().endswith("from final")
        assert "*" not in view.columns and view.columns
        assert view.question.endswith(tuple(".?")) and view.question


def test_applying_the_views_again_changes_nothing(sample_warehouse: Warehouse) -> None:
    before = {name: sorted(sample_warehouse.query(f"select * from {name}"), key=repr)
              for name in sample_warehouse.created_views}  # type: ignore[attr-defined]
    assert apply_views(sample_warehouse.pipeline()) == sample_warehouse.created_views  # type: ignore[attr-defined]
    after = {name: sorted(sample_warehouse.query(f"select * from {name}"), key=repr) for name in before}
    assert after == before


def test_pass_rate_by_day_leaves_error_and_timed_out_runs_out(sample_warehouse: Warehouse) -> None:
    runs = raw(sample_warehouse, "runs")
    done = runs[runs.status.isin(TERMINAL)].assign(run_date=lambda f: utc_date(f.started_at))
    daily = done.groupby(["run_date", "workflow_id"]).agg(
        workflow_name=("workflow_name", "max"),
        passed=("status", count_of("pass")),
        partial=("status", count_of("partial")),
        failed=("status", count_of("fail")),
        errored=("status", count_of("error")),
        timed_out=("status", count_of("timed_out")),
    ).reset_index()
    daily["judged_runs"] = daily.passed + daily.partial + daily.failed
    daily["pass_rate"] = [ratio(p, j) for p, j in zip(daily.passed, daily.judged_runs, strict=True)]
    columns = ["run_date", "workflow_id", "workflow_name", "judged_runs", "passed", "partial",
               "failed", "errored", "timed_out", "pass_rate"]
    assert_same_rows(view_rows(sample_warehouse, "workflow_pass_rate_daily", columns),
                     rows_of(daily, columns))
    assert daily.errored.sum() > 0, "the sample world should have error runs to leave out"


def test_pass_rate_by_day_agrees_with_the_simulator_truth(sample_warehouse: Warehouse) -> None:
    truth = [r for r in sample_warehouse.truth["runs"] if r["status"] in TERMINAL]  # type: ignore[attr-defined]
    day = lambda r: datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")).date()  # noqa: E731
    # the oldest day of the window is partly aged out of the API, though loaded the day before
    first_full_day = min(day(r) for r in sample_warehouse.truth["runs"])  # type: ignore[attr-defined]
    expected = Counter((day(r), r["workflow_id"], r["status"]) for r in truth if day(r) > first_full_day)
    rows = sample_warehouse.query(
        "select run_date, workflow_id, passed, partial, failed, errored, timed_out "
        "from workflow_pass_rate_daily"
    )
    seen: Counter[tuple[date, str, str]] = Counter()
    for run_date, workflow_id, *counts in rows:
        if run_date > first_full_day:
            for status, n in zip(TERMINAL, counts, strict=True):
                if n:
                    seen[(run_date, workflow_id, status)] = n
    assert seen == expected


def test_flaky_workflows_count_flaky_runs_and_verdict_changes(sample_warehouse: Warehouse) -> None:
    runs = raw(sample_warehouse, "runs")
    judged = runs[runs.status.isin(JUDGED)].sort_values(["workflow_id", "started_at", "id"])
    judged = judged.assign(previous=judged.groupby("workflow_id").status.shift())
    judged = judged.assign(
        changed=judged.previous.notna() & (judged.status != judged.previous),
        flaky=judged.classification == "flaky",
    )
    rows = []
    for workflow_id, group in judged.groupby("workflow_id"):
        flaky = group[group.flaky]
        if flaky.empty:
            continue
        n = len(group)
        rows.append({
            "workflow_id": workflow_id,
            "workflow_name": group.workflow_name.max(),
            "judged_runs": n,
            "flaky_runs": len(flaky),
            "flaky_share": len(flaky) / n,
            "verdict_changes": int(group.changed.sum()),
            "verdict_change_rate": ratio(int(group.changed.sum()), n - 1),
            "pass_rate": int((group.status == "pass").sum()) / n,
            "last_flaky_at": flaky.started_at.max(),
        })
    expected = pd.DataFrame(rows)
    columns = list(expected.columns)
    assert len(expected) > 0
    assert_same_rows(view_rows(sample_warehouse, "flaky_workflows", columns), rows_of(expected, columns))


def test_failing_criteria_count_verdicts_per_workflow_and_criterion(sample_warehouse: Warehouse) -> None:
    criteria = raw(sample_warehouse, "evaluation_criteria")
    runs = raw(sample_warehouse, "runs")[["id", "workflow_id", "workflow_name"]]
    results = criteria.merge(runs, left_on="run_id", right_on="id")
    rows = []
    for (workflow_id, criterion_id), group in results.groupby(["workflow_id", "criterion_id"]):
        passed = int((group.verdict == "pass").sum())
        failed = int((group.verdict == "fail").sum())
        scored = group[group.verdict != "skipped"].score
        rows.append({
            "workflow_id": workflow_id,
            "workflow_name": group.workflow_name.max(),
            "criterion_id": criterion_id,
            "criterion_text": group.text.max(),
            "is_required": bool(group.is_required.any()),
            "evaluations": len(group),
            "passed": passed,
            "failed": failed,
            "skipped": int((group.verdict == "skipped").sum()),
            "fail_rate": ratio(failed, passed + failed),
            "avg_score": scored.mean() if len(scored) else None,
        })
    expected = pd.DataFrame(rows)
    columns = list(expected.columns)
    assert expected.failed.sum() > 0
    assert_same_rows(view_rows(sample_warehouse, "failing_criteria", columns), rows_of(expected, columns))


def test_tool_reliability_covers_run_tool_calls_and_session_events(sample_warehouse: Warehouse) -> None:
    calls = raw(sample_warehouse, "tool_calls")
    events = raw(sample_warehouse, "session_events")
    events = events[events.kind == "tool_call"]
    both = pd.concat([
        pd.DataFrame({"source": "workflow_runs", "tool_name": calls.tool_name,
                      "is_error": calls.is_error == True, "duration_ms": calls.duration_ms}),  # noqa: E712
        pd.DataFrame({"source": "mcp_sessions", "tool_name": json_field(events.metadata, "tool_name"),
                      "is_error": events.ok == False, "duration_ms": events.duration_ms}),  # noqa: E712
    ])
    rows = []
    for (source, tool), group in both.groupby(["source", "tool_name"]):
        durations = group.duration_ms.astype(float)
        rows.append({
            "source": source, "tool_name": tool, "calls": len(group),
            "errors": int(group.is_error.sum()), "error_rate": group.is_error.mean(),
            "p50_duration_ms": durations.quantile(0.5), "p95_duration_ms": durations.quantile(0.95),
        })
    expected = pd.DataFrame(rows)
    columns = list(expected.columns)
    assert set(expected.source) == {"workflow_runs", "mcp_sessions"}
    assert_same_rows(view_rows(sample_warehouse, "tool_reliability", columns), rows_of(expected, columns))


def test_cost_per_workflow_and_model_sums_finished_runs(sample_warehouse: Warehouse) -> None:
    runs = raw(sample_warehouse, "runs")
    done = runs[runs.status.isin(TERMINAL)]
    rows = []
    for (workflow_id, model), group in done.groupby(["workflow_id", "model"]):
        passed = int((group.status == "pass").sum())
        total = group.cost_usd.sum()
        rows.append({
            "workflow_id": workflow_id, "workflow_name": group.workflow_name.max(), "model": model,
            "finished_runs": len(group), "passed": passed, "total_cost_usd": total,
            "avg_cost_usd": group.cost_usd.mean(), "cost_per_pass_usd": ratio(total, passed),
            "avg_duration_ms": group.duration_ms.astype(float).mean(),
            "avg_tool_calls": group.tool_call_count.astype(float).mean(),
        })
    expected = pd.DataFrame(rows)
    columns = list(expected.columns)
    assert_same_rows(view_rows(sample_warehouse, "cost_by_workflow_model", columns),
                     rows_of(expected, columns))
    total_cost = sample_warehouse.query("select sum(total_cost_usd) from cost_by_workflow_model")[0][0]
    assert total_cost == pytest.approx(done.cost_usd.sum())


def test_topic_trends_compare_each_snapshot_with_the_previous_day(sample_warehouse: Warehouse) -> None:
    snapshots = raw(sample_warehouse, "topic_snapshots").sort_values(["topic_id", "range", "snapshot_date"])
    labels = raw(sample_warehouse, "topics").set_index("id").label
    snapshots["session_count_change"] = (
        snapshots.session_count - snapshots.groupby(["topic_id", "range"]).session_count.shift()
    )
    snapshots["label"] = [labels.get(t, own) for t, own in zip(snapshots.topic_id, snapshots.label, strict=True)]
    columns = ["snapshot_date", "range", "topic_id", "label", "is_unmet_demand", "session_count",
               "session_count_change", "tool_call_count", "error_rate", "frustration_score", "trend"]
    assert snapshots.snapshot_date.nunique() == 2, "the sample has snapshots of two days"
    assert snapshots.session_count_change.notna().any()
    assert_same_rows(view_rows(sample_warehouse, "topic_trends", columns), rows_of(snapshots, columns))


def test_unmet_demand_lists_flagged_topics_with_their_loaded_sessions(sample_warehouse: Warehouse) -> None:
    topics = raw(sample_warehouse, "topics")
    sessions = raw(sample_warehouse, "sessions")
    demand = topics[(topics.is_unmet_demand == True) & (topics.archived != True)]  # noqa: E712
    loaded = sessions.groupby("topic_id").agg(
        sessions_loaded=("id", "count"), actors_loaded=("actor_id", "nunique"),
        example_intent=("raw_intent", "max"),
    )
    expected = demand.rename(columns={"id": "topic_id"}).merge(
        loaded, left_on="topic_id", right_index=True, how="left"
    )
    expected[["sessions_loaded", "actors_loaded"]] = expected[["sessions_loaded", "actors_loaded"]].fillna(0)
    columns = ["topic_id", "label", "session_count", "counts_range", "tool_call_count", "error_rate",
               "frustration_score", "trend", "sessions_loaded", "actors_loaded", "example_intent",
               "first_seen_at", "last_seen_at"]
    assert len(expected) > 0
    assert_same_rows(view_rows(sample_warehouse, "unmet_demand", columns), rows_of(expected, columns))


def test_failed_search_gaps_carry_the_latest_occurrences_per_range(sample_warehouse: Warehouse) -> None:
    searches = raw(sample_warehouse, "failed_searches")
    snapshots = raw(sample_warehouse, "failed_search_snapshots")
    latest = snapshots[snapshots.snapshot_date == snapshots.snapshot_date.max()]
    expected = searches.rename(columns={"id": "failed_search_id"})
    for range_ in ("24h", "7d", "30d", "90d"):
        of_range = latest[latest.range == range_].set_index("failed_search_id").occurrences
        read = len(of_range) > 0
        expected[f"occurrences_{range_}"] = [
            int(of_range.get(i, 0)) if read else None for i in expected.failed_search_id
        ]
    columns = ["failed_search_id", "query", "suggested_gap", "occurrences", "session_count",
               "counts_range", "occurrences_24h", "occurrences_7d", "occurrences_30d",
               "occurrences_90d", "first_seen_at", "last_seen_at"]
    assert_same_rows(view_rows(sample_warehouse, "failed_search_gaps", columns), rows_of(expected, columns))
    truth_90d = sample_warehouse.truth["failed_searches_total"]["90d"]  # type: ignore[attr-defined]
    assert sample_warehouse.query("select count(occurrences_90d) from failed_search_gaps "
                                  "where occurrences_90d > 0")[0][0] == truth_90d


def test_session_outcomes_by_day_match_the_raw_sessions(sample_warehouse: Warehouse) -> None:
    sessions = raw(sample_warehouse, "sessions")
    events = raw(sample_warehouse, "session_events")
    unmet = raw(sample_warehouse, "topics").set_index("id").is_unmet_demand
    frustrated = set(events[json_field(events.metadata, "user_frustration") == "high"].session_id)
    sessions = sessions.assign(
        session_date=utc_date(sessions.started_at),
        frustrated=sessions.id.isin(frustrated),
        unmet=[bool(unmet.get(t, False)) for t in sessions.topic_id],
    )
    rows = []
    for session_date, group in sessions.groupby("session_date"):
        events_n, errors_n = int(group.event_count.sum()), int(group.error_count.sum())
        rows.append({
            "session_date": session_date, "sessions": len(group),
            "clean_sessions": int((group.error_count == 0).sum()),
            "sessions_with_errors": int((group.error_count > 0).sum()),
            "frustrated_sessions": int(group.frustrated.sum()),
            "unmet_demand_sessions": int(group.unmet.sum()),
            "active_actors": group.actor_id.nunique(), "events": events_n, "errors": errors_n,
            "error_rate": ratio(errors_n, events_n),
        })
    expected = pd.DataFrame(rows)
    columns = list(expected.columns)
    assert expected.frustrated_sessions.sum() > 0
    assert_same_rows(view_rows(sample_warehouse, "session_outcomes_daily", columns),
                     rows_of(expected, columns))


def test_views_whose_tables_are_missing_are_skipped_with_a_log_line(
    sim: RunningSim, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sim.control.reset(runs=40, sessions=30, insights=False)
    warehouse = Warehouse(tmp_path)
    warehouse.load(sim)
    with caplog.at_level(logging.INFO, logger="armature_pipeline.views"):
        created = apply_views(warehouse.pipeline())
    loaded = warehouse.tables()
    expected = [view.name for view in load_views() if view.tables <= loaded]
    skipped = [view for view in load_views() if not view.tables <= loaded]
    assert created == expected
    assert "workflow_pass_rate_daily" in created and skipped
    assert view_names(warehouse) == set(created)
    for view in skipped:
        assert any(r.message.startswith(f"view {view.name} skipped: table") for r in caplog.records)


def test_views_keep_working_when_the_duckdb_file_is_copied_or_named_like_the_dataset(
    sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    expected = {v.name: sorted(sample_warehouse.query(f"select * from {v.name}"), key=repr) for v in load_views()}
    shutil.copytree(sample_warehouse.pipelines_dir, tmp_path / "pipelines")
    for name in ("copy.duckdb", f"{DATASET}.duckdb"):
        shutil.copy(sample_warehouse.db_path, tmp_path / name)
        with duckdb.connect(str(tmp_path / name), read_only=True) as con:
            con.execute(f"set schema '{DATASET}'")
            for view, rows in expected.items():
                assert sorted(con.execute(f"select * from {view}").fetchall(), key=repr) == rows, (name, view)
    # in a file named like its dataset, `<dataset>.runs` is ambiguous (catalog or schema):
    # the command's destination for such a file and the views both name the catalog
    pipeline = dlt.pipeline(
        pipeline_name=sample_warehouse.name, dataset_name=DATASET,
        destination=duckdb_at(str(tmp_path / f"{DATASET}.duckdb"), DATASET),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    assert apply_views(pipeline) == [v.name for v in load_views()]
