"""What a load must leave in the warehouse, derived from the simulator's ground truth: the
checks the load tests share."""

from __future__ import annotations

from typing import Any

from tests.support.warehouse import Warehouse, duplicates

RANGES = ("24h", "7d", "30d", "90d")


def expected(truth: dict[str, Any], session_range: str = "90d") -> dict[str, Any]:
    """What a first load must hold, derived from the simulator's ground truth."""
    runs = truth["runs"]
    terminal = [r for r in runs if r["terminal"]]
    judged = [r for r in runs if r["has_evaluation"]]
    listed_sessions = set(truth["sessions_listed"][session_range])
    sessions = {s["id"]: s for s in truth["sessions"]}
    return {
        "runs": {r["id"] for r in runs},
        "terminal": {r["id"] for r in terminal},
        "trace_spans": sum(r["spans"] for r in terminal),
        "tool_calls": sum(r["tool_calls"] for r in terminal),
        "evaluations": {r["id"] for r in judged},
        "evaluation_criteria": sum(r["criteria"] for r in judged),
        "sessions": listed_sessions,
        "session_events": sum(sessions[s]["event_count"] for s in listed_sessions),
        "topics": set().union(*(truth["topics_listed"][r] for r in RANGES)),
        "topic_snapshots": sum(len(truth["topics_listed"][r]) for r in RANGES),
        "failed_searches": set().union(*(truth["failed_searches_listed"][r] for r in RANGES)),
        "failed_search_snapshots": sum(len(truth["failed_searches_listed"][r]) for r in RANGES),
    }


def assert_first_load(wh: Warehouse, truth: dict[str, Any]) -> None:
    want = expected(truth)
    assert wh.ids("organization") == {truth["organization"]["id"]}
    assert wh.ids("mcp_servers") == set(truth["mcp_servers"])
    assert wh.ids("workflows") == set(truth["workflows"])
    assert wh.ids("runs") == want["runs"]
    assert wh.ids("trace_spans", "run_id") <= want["terminal"]
    assert wh.count("trace_spans") == want["trace_spans"]
    assert wh.count("tool_calls") == want["tool_calls"]
    assert wh.ids("evaluations", "run_id") == want["evaluations"]
    assert wh.count("evaluation_criteria") == want["evaluation_criteria"]
    assert wh.ids("sessions") == want["sessions"]
    assert wh.count("session_events") == want["session_events"]
    assert wh.ids("topics") == want["topics"]
    assert wh.count("topic_snapshots") == want["topic_snapshots"]
    assert wh.ids("failed_searches") == want["failed_searches"]
    assert wh.count("failed_search_snapshots") == want["failed_search_snapshots"]
    assert wh.count("insights_overview") == len(RANGES)
    assert_no_duplicate_keys(wh)


def assert_holds_what_the_host_serves(wh: Warehouse, truth: dict[str, Any]) -> None:
    """After loads spread over time: every run the host serves now is there, each terminal
    one with all its children (runs that aged out of the host's 30 days stay, as loaded)."""
    assert {r["id"] for r in truth["runs"]} <= wh.ids("runs")
    for table, field in (("trace_spans", "spans"), ("tool_calls", "tool_calls")):
        per_run = dict(wh.query(f"select run_id, count(*) from {table} group by 1"))
        short = [r["id"] for r in truth["runs"] if r["terminal"] and per_run.get(r["id"], 0) != r[field]]
        assert not short, f"{table} incomplete for {short[:5]}"
    judged = {r["id"] for r in truth["runs"] if r["has_evaluation"]}
    assert judged <= wh.ids("evaluations", "run_id")
    assert_no_duplicate_keys(wh)


def assert_no_duplicate_keys(wh: Warehouse) -> None:
    for table in wh.tables():
        if table.startswith("_dlt"):
            continue
        assert duplicates(wh.keys(table)) == [], f"duplicate keys in {table}"


def assert_open_runs_loaded_without_children(wh: Warehouse, truth: dict[str, Any]) -> None:
    open_ids = {r["id"] for r in truth["runs"] if not r["terminal"]}
    assert open_ids, "the world should have open runs near now"
    assert not open_ids & wh.ids("trace_spans", "run_id")
    assert not open_ids & wh.ids("tool_calls", "run_id")
    statuses = dict(wh.query("select id, status from runs"))
    assert {statuses[i] for i in open_ids} <= {"pending", "running"}
