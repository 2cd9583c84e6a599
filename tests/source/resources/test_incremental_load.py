"""Loads against the simulator: exact rows on the first load, nothing on a repeat, exactly
the new rows after the clock moves. Every expected number comes from the simulator's truth."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.expectations import (
    RANGES,
    assert_first_load,
    assert_no_duplicate_keys,
    assert_open_runs_loaded_without_children,
)
from tests.support.warehouse import Warehouse

SMALL_WORLD = dict(seed=11, runs=240, days=30, sessions=300)


@pytest.fixture
def small_sim(sim: Any) -> Any:
    sim.control.reset(**SMALL_WORLD)
    return sim


def test_first_load_holds_exactly_the_reachable_rows(small_sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    wh.load(small_sim)
    truth = small_sim.control.truth()
    assert_first_load(wh, truth)
    assert_open_runs_loaded_without_children(wh, truth)


def test_second_load_without_clock_change_adds_and_changes_nothing(small_sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    wh.load(small_sim)
    before = wh.snapshot()
    info = wh.load(small_sim)
    assert wh.snapshot() == before
    counts = wh.pipeline().last_trace.last_normalize_info.row_counts
    # the ledger gains one row per resource every load: that is what it is for
    changed = {k: v for k, v in counts.items() if not k.startswith("_dlt") and k != "load_ledger"}
    assert changed == {"organization": 1}, f"a repeat load rewrote {changed}"
    assert counts["load_ledger"] == 8
    assert not info.has_failed_jobs


def test_after_the_clock_moves_the_next_load_adds_exactly_the_new_rows(small_sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    control = small_sim.control
    wh.load(small_sim)
    first = control.truth()
    formerly_open = {r["id"] for r in first["runs"] if not r["terminal"]} | set(first["open_runs"])
    moved = control.advance(minutes=180)
    assert moved["new_runs"] > 0 and moved["ended_runs"] > 0
    wh.load(small_sim)
    second = control.truth()

    now_runs = {r["id"]: r for r in second["runs"]}
    every_run = {r["id"] for r in first["runs"]} | set(now_runs)
    assert wh.ids("runs") == every_run
    statuses = dict(wh.query("select id, status from runs"))
    for run_id in formerly_open & set(now_runs):
        assert statuses[run_id] == now_runs[run_id]["status"]
    terminal_now = [r for r in second["runs"] if r["terminal"]]
    terminal_first = {r["id"]: r for r in first["runs"] if r["terminal"]}
    aged_out = [r for k, r in terminal_first.items() if k not in now_runs]
    all_terminal = terminal_now + aged_out
    assert wh.ids("trace_spans", "run_id") <= {r["id"] for r in all_terminal}
    assert wh.count("trace_spans") == sum(r["spans"] for r in all_terminal)
    assert wh.count("tool_calls") == sum(r["tool_calls"] for r in all_terminal)
    judged = [r for r in all_terminal if r["has_evaluation"]]
    assert wh.ids("evaluations", "run_id") == {r["id"] for r in judged}
    assert wh.count("evaluation_criteria") == sum(r["criteria"] for r in judged)
    assert_no_duplicate_keys(wh)

    # every session in the warehouse holds exactly its events, none twice
    per_session = dict(wh.query("select session_id, count(*) from session_events group by 1"))
    for session_id, event_count in wh.query("select id, event_count from sessions"):
        assert per_session.get(session_id, 0) == event_count
    truth_sessions = {s["id"]: s for s in second["sessions"]}
    listed_now = set(second["sessions_listed"]["24h"])
    loaded = dict(wh.query("select id, event_count from sessions"))
    for session_id in listed_now:
        assert loaded[session_id] == truth_sessions[session_id]["event_count"]


def test_alt_dialect_loads_the_same_tables(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**SMALL_WORLD, dialect="alt")
    wh = Warehouse(tmp_path)
    wh.load(sim)
    truth = sim.control.truth()
    assert truth["dialect"] == "alt"
    assert_first_load(wh, truth)


def test_alt_and_default_dialect_give_identical_tables(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**SMALL_WORLD)
    default = Warehouse(tmp_path / "default")
    default.load(sim)
    sim.control.reset(**SMALL_WORLD, dialect="alt")
    alt = Warehouse(tmp_path / "alt")
    alt.load(sim)
    for table in ("runs", "trace_spans", "tool_calls", "evaluations", "sessions", "session_events"):
        assert alt.content(table) == default.content(table), table


def test_insights_disabled_loads_everything_else_with_one_warning(sim: Any, tmp_path: Any, caplog: Any) -> None:
    sim.control.reset(**SMALL_WORLD, insights=False)
    wh = Warehouse(tmp_path)
    with caplog.at_level("WARNING", logger="armature_source"):
        wh.load(sim)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"
                and "MCP Analytics is not enabled" in r.getMessage()]
    assert len(warnings) == 1
    truth = sim.control.truth()
    assert wh.ids("runs") == {r["id"] for r in truth["runs"]}
    assert not {"sessions", "topics", "failed_searches", "insights_overview"} & wh.tables()


def test_insights_disabled_run_command_exits_zero(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**SMALL_WORLD, insights=False)
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Skipping the insights resources") == 1
    assert re.search(r"WARNING \[\w+( \w+)?\] MCP Analytics is not enabled", done.stderr), done.stderr


def test_run_that_vanishes_between_list_and_detail_is_skipped_and_counted(
    small_sim: Any, tmp_path: Any, caplog: Any
) -> None:
    truth = small_sim.control.truth()
    gone = next(r for r in truth["runs"] if r["terminal"])
    # gone by id as well as its trace: only such a run counts as vanished (CONTRACT §2)
    small_sim.control.set_faults([{"kind": "not_found", "path": f"/runs/{gone['id']}(/trace)?$"}])
    wh = Warehouse(tmp_path)
    with caplog.at_level("INFO", logger="armature_source"):
        wh.load(small_sim)
    assert gone["id"] not in wh.ids("runs")
    assert gone["id"] not in wh.ids("trace_spans", "run_id")
    others = [r for r in truth["runs"] if r["terminal"] and r["id"] != gone["id"]]
    assert wh.count("trace_spans") == sum(r["spans"] for r in others)
    assert any("1 vanished (404)" in r.getMessage() for r in caplog.records)


def test_incremental_load_with_nothing_new_makes_a_bounded_number_of_requests(
    small_sim: Any, tmp_path: Any
) -> None:
    wh = Warehouse(tmp_path)
    wh.load(small_sim)
    control = small_sim.control
    control.clear_requests()
    wh.load(small_sim)
    truth = control.truth()
    requests = control.requests()
    now = control.now()
    # runs inside the lookback (60 min) are listed again: that many rows, 100 a page
    lookback_rows = sum(1 for r in truth["runs"] if _age_minutes(r["started_at"], now) <= 65)
    run_pages = lookback_rows // 100 + 1
    open_runs = len(truth["open_runs"])
    bound = (
        1  # /org
        + 1 + len(truth["mcp_servers"])  # list + detail per server
        + 1  # /workflows
        + run_pages + open_runs  # pages inside the lookback, re-checks of open runs
        + 3 * len(RANGES)  # overview, topics, searches per range
        + 1  # sessions list; no session grew, so no trace is read again
    )
    paths = [r["path"] for r in requests]
    assert len(requests) <= bound, paths
    assert [p for p in paths if p.endswith(("/trace", "/tool-calls", "/evaluation"))] == []


def _age_minutes(stamp: str, now: Any) -> float:
    from armature_source.timestamps import parse_ts

    return (now - parse_ts(stamp)).total_seconds() / 60


def test_a_new_machine_resumes_from_the_state_in_the_warehouse(small_sim: Any, tmp_path: Any) -> None:
    import shutil

    wh = Warehouse(tmp_path)
    wh.load(small_sim)
    shutil.rmtree(wh.pipelines_dir)  # the cron host is replaced: only the warehouse remains
    control = small_sim.control
    control.clear_requests()
    wh.load(small_sim)
    paths = [r["path"] for r in control.requests()]
    assert not [p for p in paths if p.endswith(("/trace", "/tool-calls", "/evaluation"))
                and "/insights/" not in p], "a resumed load must not fetch finished runs again"
    assert_first_load(wh, control.truth())
