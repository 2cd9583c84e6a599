"""The simulator's read API against a real server: shapes, auth, filters, paging, dialects.

Expected ids and counts come from `/_sim/truth`, never from numbers typed in here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from armature_sim.server import RunningSim, spawn

ISO_Z_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_ALT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+01:00$")
INSIGHT_RANGES = ("24h", "7d", "30d", "90d")


def get_with(api: httpx.Client, path: str, authorization: str | None) -> httpx.Response:
    """GET with another Authorization header, or none at all."""
    request = api.build_request("GET", path)
    del request.headers["Authorization"]
    if authorization is not None:
        request.headers["Authorization"] = authorization
    return api.send(request)


def when(stamp: str) -> datetime:
    """Parse an API timestamp (Z or offset)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def all_pages(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every row of /runs for these filters, page after page until a short page."""
    rows: list[dict[str, Any]] = []
    for page in range(1, 1000):
        body = api.get("/runs", params={**params, "page": page}).json()
        rows += body["rows"]
        if len(body["rows"]) < body["pageSize"]:
            return rows
    raise AssertionError("paging did not end")


def test_org_with_the_demo_key_returns_the_organization_and_a_viewer_actor(sim: RunningSim, api: httpx.Client) -> None:
    response = api.get("/org")
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == sim.control.truth()["organization"]
    assert set(body["actor"]) == {"apiKeyId", "apiKeyName", "userProfileId", "role", "email"}
    assert body["actor"]["role"] == "viewer"
    assert body["actor"]["userProfileId"] is None and body["actor"]["email"] is None


@pytest.mark.parametrize("role", ["editor", "admin", "owner"])
def test_each_role_key_is_accepted_with_its_role(api: httpx.Client, role: str) -> None:
    response = get_with(api, "/org", f"bearer amt_{role}_localsimulator")
    assert response.status_code == 200
    assert response.json()["actor"]["role"] == role


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Token amt_demo_localsimulator", "amt_demo_localsimulator", "Bearer amt_nokey_nosecret"],
)
def test_missing_malformed_or_unknown_key_is_401_unauthenticated(api: httpx.Client, header: str | None) -> None:
    response = get_with(api, "/runs", header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_openapi_needs_no_key(api: httpx.Client) -> None:
    response = get_with(api, "/openapi", None)
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.0")


def test_every_answer_carries_the_simulated_now_as_date(sim: RunningSim, api: httpx.Client) -> None:
    expected = format_datetime(sim.control.now(), usegmt=True)
    for path in ("/org", "/runs?range=1y", "/runs/no-such-run", "/no-such-path"):
        assert api.get(path).headers["date"] == expected, path
    assert get_with(api, "/org", None).headers["date"] == expected
    sim.control.advance(minutes=90)
    assert api.get("/org").headers["date"] == format_datetime(sim.control.now(), usegmt=True)


def test_catalog_lists_and_details_match_the_truth(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    servers = api.get("/mcp-servers").json()["rows"]
    assert [s["id"] for s in servers] == truth["mcp_servers"]
    detail = api.get(f"/mcp-servers/{servers[0]['id']}").json()
    assert detail["tools"] and {"name", "description"} == set(detail["tools"][0])
    workflows = api.get("/workflows").json()["rows"]
    assert [w["id"] for w in workflows] == truth["workflows"]
    one = api.get(f"/workflows/{workflows[0]['id']}").json()
    assert one == workflows[0]
    assert 2 <= len(one["criteria"]) <= 6
    assert api.get("/workflows/nope").json()["error"]["code"] == "not_found"


def test_runs_filter_by_workflow_status_and_range_as_the_truth_says(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    since = when(truth["now"]) - timedelta(days=7)
    recent = [r for r in truth["runs"] if when(r["started_at"]) > since]
    pairs = {(r["workflow_id"], r["status"]) for r in recent if r["status"] == "fail"}
    assert pairs, "the 7-day window should hold failed runs"
    for workflow_id, status in sorted(pairs):
        expected = [r["id"] for r in recent if r["workflow_id"] == workflow_id and r["status"] == status]
        params = {"workflowId": workflow_id, "status": status, "range": "7d", "pageSize": 100}
        body = api.get("/runs", params=params).json()
        assert [r["id"] for r in body["rows"]] == expected
        assert body["total"] == len(expected)
        assert all(r["workflow_id"] == workflow_id and r["status"] == status for r in body["rows"])


def test_runs_filter_by_classification_and_search(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    flaky = [r["id"] for r in truth["runs"] if r["classification"] == "flaky"]
    assert flaky
    assert [r["id"] for r in all_pages(api, range="30d", classification="flaky", pageSize=100)] == flaky
    workflow = api.get("/workflows").json()["rows"][0]
    expected = [r["id"] for r in truth["runs"] if r["workflow_id"] == workflow["id"]]
    found = all_pages(api, range="30d", search=workflow["name"].upper(), pageSize=100)
    assert [r["id"] for r in found] == expected


def test_pages_concatenate_to_exactly_the_truths_30_day_runs(sim: RunningSim, api: httpx.Client) -> None:
    truth_ids = [r["id"] for r in sim.control.truth()["runs"]]
    rows = all_pages(api, range="30d", pageSize=37)
    ids = [r["id"] for r in rows]
    assert ids == truth_ids
    assert len(set(ids)) == len(ids)
    oldest_first = [r["id"] for r in all_pages(api, range="30d", pageSize=100, sort="started_at")]
    assert oldest_first == truth_ids[::-1]
    assert api.get("/runs", params={"range": "30d"}).json()["total"] == len(truth_ids)


def test_default_range_is_24h_and_default_page_size_is_25(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    since = when(truth["now"]) - timedelta(hours=24)
    day = [r["id"] for r in truth["runs"] if when(r["started_at"]) > since]
    body = api.get("/runs").json()
    assert body["page"] == 1 and body["pageSize"] == 25 and body["total"] == len(day)
    assert [r["id"] for r in body["rows"]] == day[:25]


def test_page_size_above_100_is_served_100_rows(api: httpx.Client) -> None:
    body = api.get("/runs", params={"range": "30d", "pageSize": 5000}).json()
    assert body["pageSize"] == 100
    assert len(body["rows"]) == 100


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/runs", {"range": "90d"}, "range"),
        ("/runs", {"range": "1y"}, "range"),
        ("/runs", {"sort": "status"}, "sort"),
        ("/runs", {"page": "0"}, "page"),
        ("/runs", {"pageSize": "many"}, "pageSize"),
        ("/runs", {"status": "done"}, "status"),
        ("/insights/sessions", {"range": "1y"}, "range"),
        ("/insights/topics", {"sort": "alpha"}, "sort"),
        ("/insights/searches", {"limit": "-3"}, "limit"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    api: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["field"] == field


def test_terminal_runs_serve_children_the_truth_counts(sim: RunningSim, api: httpx.Client) -> None:
    runs = [r for r in sim.control.truth()["runs"] if r["terminal"]]
    failed = [r for r in runs if r["status"] in ("error", "timed_out")]
    chosen = [next(r for r in runs if r["has_evaluation"]), *failed[:2]]
    for run in chosen:
        detail = api.get(f"/runs/{run['id']}").json()
        assert detail["status"] == run["status"] and detail["ended_at"] and detail["duration_ms"] is not None
        spans = api.get(f"/runs/{run['id']}/trace").json()["spans"]
        assert len(spans) == run["spans"]
        roots = [s for s in spans if s["parent_id"] is None]
        assert len(roots) == 1
        assert {s["parent_id"] for s in spans} - {None} <= {s["id"] for s in spans}
        calls = api.get(f"/runs/{run['id']}/tool-calls").json()["rows"]
        assert len(calls) == run["tool_calls"] == detail["tool_call_count"]
        assert [c["seq"] for c in calls] == list(range(len(calls)))
        tool_spans = {s["id"] for s in spans if s["kind"] == "tool"}
        assert {c["span_id"] for c in calls} <= tool_spans
        evaluation = api.get(f"/runs/{run['id']}/evaluation")
        if run["has_evaluation"]:
            assert len(evaluation.json()["criteria"]) == run["criteria"]
            assert detail["evaluator_output"]["verdict"] == evaluation.json()["verdict"] == run["status"]
            assert detail["judge_model"] == evaluation.json()["judge_model"]
        else:
            assert evaluation.status_code == 404
            assert evaluation.json()["error"]["code"] == "evaluation_not_available"


def test_open_run_serves_a_prefix_of_its_final_children_and_no_evaluation(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    assert truth["open_runs"], "a fresh world has runs in flight"
    run_id = truth["open_runs"][0]
    detail = api.get(f"/runs/{run_id}").json()
    assert detail["status"] in ("pending", "running")
    for name in ("ended_at", "duration_ms", "cost_usd", "classification", "judge_model", "evaluator_output"):
        assert detail[name] is None, name
    partial_spans = api.get(f"/runs/{run_id}/trace").json()["spans"]
    partial_calls = api.get(f"/runs/{run_id}/tool-calls").json()["rows"]
    evaluation = api.get(f"/runs/{run_id}/evaluation")
    assert evaluation.status_code == 404 and evaluation.json()["error"]["code"] == "evaluation_not_available"

    sim.control.advance(minutes=8 * 60)
    final = next(r for r in sim.control.truth()["runs"] if r["id"] == run_id)
    assert final["terminal"]
    spans = api.get(f"/runs/{run_id}/trace").json()["spans"]
    calls = api.get(f"/runs/{run_id}/tool-calls").json()["rows"]
    assert len(spans) == final["spans"] and len(calls) == final["tool_calls"]
    assert spans[: len(partial_spans)] == partial_spans
    assert calls[: len(partial_calls)] == partial_calls
    assert api.get(f"/runs/{run_id}").json()["ended_at"] is not None


def test_a_method_the_path_does_not_serve_is_405_naming_the_allowed_ones(api: httpx.Client) -> None:
    response = api.delete("/runs")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unknown_ids_are_404_not_found(api: httpx.Client) -> None:
    for path in ("/runs/nope", "/runs/nope/trace", "/mcp-servers/nope", "/insights/topics/nope",
                 "/insights/searches/nope", "/insights/sessions/nope/trace"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path


def test_truth_lists_are_exactly_what_the_insights_lists_return(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    limit = truth["session_list_limit"]
    for name in INSIGHT_RANGES:
        sessions = api.get("/insights/sessions", params={"range": name, "limit": limit}).json()["sessions"]
        assert [s["id"] for s in sessions] == truth["sessions_listed"][name], name
        assert truth["sessions_total"][name] >= len(sessions)
        topics = api.get("/insights/topics", params={"range": name, "limit": 200}).json()["rows"]
        assert [t["id"] for t in topics] == truth["topics_listed"][name], name
        assert truth["topics_total"][name] == len(topics)
        searches = api.get("/insights/searches", params={"range": name, "limit": 200}).json()["rows"]
        assert [s["id"] for s in searches] == truth["failed_searches_listed"][name], name
        assert truth["failed_searches_total"][name] == len(searches)


def test_session_list_is_newest_first_inside_the_range_and_capped(sim: RunningSim, api: httpx.Client) -> None:
    truth = sim.control.truth()
    now = when(truth["now"])
    assert truth["sessions_total"]["90d"] > truth["session_list_limit"], "the world must outgrow one list"
    capped = api.get("/insights/sessions", params={"range": "90d", "limit": 1000}).json()["sessions"]
    assert len(capped) == truth["session_list_limit"]
    assert len(api.get("/insights/sessions", params={"range": "90d"}).json()["sessions"]) == 50
    week = api.get("/insights/sessions", params={"range": "7d", "limit": 100}).json()["sessions"]
    stamps = [when(s["last_event_at"]) for s in week]
    assert stamps == sorted(stamps, reverse=True)
    assert all(now - timedelta(days=7) < t <= now for t in stamps)
    by_id = {s["id"]: s for s in truth["sessions"]}
    for session in week:
        assert session["event_count"] == by_id[session["id"]]["event_count"]
        assert session["ok_count"] + session["error_count"] == session["event_count"]


def test_intent_filters_sessions_by_case_insensitive_substring(api: httpx.Client) -> None:
    everything = api.get("/insights/sessions", params={"range": "7d", "limit": 100}).json()["sessions"]
    needle = everything[0]["raw_intent"].split()[-1]
    matching = [s["id"] for s in everything if needle.casefold() in s["raw_intent"].casefold()]
    params = {"range": "7d", "limit": 100, "intent": needle.upper()}
    found = api.get("/insights/sessions", params=params).json()["sessions"]
    assert [s["id"] for s in found] == matching
    assert len(found) < len(everything)


def test_session_trace_holds_the_sessions_events(sim: RunningSim, api: httpx.Client) -> None:
    session = api.get("/insights/sessions", params={"range": "24h"}).json()["sessions"][0]
    trace = api.get(f"/insights/sessions/{session['id']}/trace").json()
    assert trace["session_id"] == session["id"]
    events = trace["events"]
    assert len(events) == session["event_count"]
    assert events[0]["kind"] == "session_init"
    assert sum(1 for e in events if not e["ok"]) == session["error_count"]
    assert events[-1]["started_at"] == session["last_event_at"]


def test_insights_counts_follow_the_range(api: httpx.Client) -> None:
    sessions_by_range = {}
    for name in INSIGHT_RANGES:
        overview = api.get("/insights/overview", params={"range": name}).json()
        topics = api.get("/insights/topics", params={"range": name, "limit": 200}).json()["rows"]
        searches = api.get("/insights/searches", params={"range": name, "limit": 200}).json()["rows"]
        kpis = overview["kpis"]
        assert overview["range"] == name
        assert sum(t["session_count"] for t in topics) == kpis["sessions"]
        assert sum(t["tool_call_count"] for t in topics) == kpis["tool_calls"]
        assert sum(s["occurrences"] for s in searches) == kpis["failed_searches"]
        assert sum(d["tool_calls"] for d in overview["trend"]) == kpis["tool_calls"]
        assert [t["id"] for t in overview["top_topics"]] == [t["id"] for t in topics[:5]]
        sessions_by_range[name] = kpis["sessions"]
    assert sessions_by_range["24h"] < sessions_by_range["7d"] < sessions_by_range["30d"] <= sessions_by_range["90d"]
    topic = api.get("/insights/topics", params={"range": "90d"}).json()["rows"][0]
    day = api.get(f"/insights/topics/{topic['id']}", params={"range": "24h"}).json()
    quarter = api.get(f"/insights/topics/{topic['id']}", params={"range": "90d"}).json()
    assert quarter["session_count"] == topic["session_count"] >= day["session_count"]
    assert quarter["sample_sessions"] and {"id", "raw_intent", "last_event_at"} == set(quarter["sample_sessions"][0])


def test_alt_dialect_serves_camel_case_data_envelopes_and_offset_times(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(dialect="alt")
    truth = sim.control.truth()
    body = api.get("/runs", params={"range": "30d", "pageSize": 500}).json()
    assert set(body) == {"data", "page", "pageSize"}
    assert body["pageSize"] == 50 and len(body["data"]) == 50
    run = body["data"][0]
    assert {"workflowId", "startedAt", "toolCallCount", "baselineRunId"} <= set(run)
    assert not [k for k in run if "_" in k]
    assert ISO_ALT.match(run["startedAt"])
    assert when(run["startedAt"]) == when(truth["runs"][0]["started_at"])
    assert run["id"] == truth["runs"][0]["id"]
    detail = api.get(f"/runs/{run['id']}").json()
    assert "judgeModel" in detail and "evaluatorOutput" in detail
    assert set(api.get(f"/runs/{run['id']}/trace").json()) == {"runId", "spans"}
    assert set(api.get(f"/runs/{run['id']}/tool-calls").json()) == {"data"}
    assert set(api.get("/mcp-servers").json()) == {"data"}
    sessions = api.get("/insights/sessions", params={"range": "7d"}).json()
    assert set(sessions) == {"data"} and "lastEventAt" in sessions["data"][0]
    busy = next(s for s in sessions["data"] if s["eventCount"] >= 3)
    trace = api.get(f"/insights/sessions/{busy['id']}/trace").json()
    assert set(trace) == {"sessionId", "data"}
    assert "tool_name" in next(e for e in trace["data"] if e["kind"] == "tool_call")["metadata"]
    assert set(api.get("/org").json()["actor"]) == {"apiKeyId", "apiKeyName", "userProfileId", "role", "email"}


def test_default_dialect_uses_utc_milliseconds_and_snake_case(api: httpx.Client) -> None:
    run = api.get("/runs").json()["rows"][0]
    assert ISO_Z_MS.match(run["started_at"])
    assert "workflow_id" in run


def test_insights_switched_off_at_runtime_answer_403_feature_disabled(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.configure(insights=False)
    for path in ("/insights/overview", "/insights/topics", "/insights/sessions", "/insights/anything"):
        response = api.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "feature_disabled"
    assert api.get("/runs").status_code == 200
    assert get_with(api, "/insights/topics", None).status_code == 401
    sim.control.configure(insights=True)
    assert api.get("/insights/topics").status_code == 200


def test_no_insights_flag_gives_403_on_insights_and_200_elsewhere() -> None:
    with spawn(runs=40, sessions=40, insights=False) as sim:
        headers = {"Authorization": f"Bearer {sim.api_key}"}
        assert sim.control.truth()["insights_enabled"] is False
        for path in ("/insights/overview", "/insights/sessions", "/insights/searches"):
            response = httpx.get(f"{sim.api_url}{path}", headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "feature_disabled"
        for path in ("/org", "/runs", "/workflows", "/mcp-servers"):
            assert httpx.get(f"{sim.api_url}{path}", headers=headers).status_code == 200
