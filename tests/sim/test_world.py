"""The seeded world and its clock: the same seed gives the same bytes, the clock moves the world
the documented ways, and a large world stays cheap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from armature_sim.server import RunningSim, spawn
from armature_sim.vocabulary import WorldOptions
from armature_sim.world import World

WORLD = {"seed": 21, "runs": 200, "days": 30, "sessions": 300}


def snapshot(api: httpx.Client) -> dict[str, bytes]:
    """Raw bodies of one request to every endpoint kind, children included."""
    runs = api.get("/runs", params={"range": "30d", "pageSize": 100}).json()["rows"]
    sessions = api.get("/insights/sessions", params={"range": "90d", "limit": 100}).json()["sessions"]
    topics = api.get("/insights/topics", params={"range": "90d"}).json()["rows"]
    searches = api.get("/insights/searches", params={"range": "90d"}).json()["rows"]
    judged = next(r["id"] for r in runs if r["status"] in ("pass", "partial", "fail"))
    paths = [
        "/org", "/mcp-servers", "/workflows", "/runs?range=30d&pageSize=100&page=2", f"/runs/{judged}",
        f"/runs/{judged}/trace", f"/runs/{judged}/tool-calls", f"/runs/{judged}/evaluation",
        f"/runs/{runs[0]['id']}/trace", "/insights/sessions?range=90d&limit=100",
        f"/insights/sessions/{sessions[0]['id']}/trace", f"/insights/sessions/{sessions[-1]['id']}/trace",
        "/insights/topics?range=30d", f"/insights/topics/{topics[0]['id']}", "/insights/searches?range=90d",
        f"/insights/searches/{searches[0]['id']}", "/insights/overview?range=90d",
    ]
    return {path: api.get(path).content for path in paths}


def api_client(sim: RunningSim) -> httpx.Client:
    """A keyed client on another simulator."""
    return httpx.Client(base_url=sim.api_url, headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=30)


def test_same_seed_twice_gives_identical_bodies(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(**WORLD)
    first = snapshot(api)
    sim.control.advance(minutes=45)
    sim.control.reset(**WORLD)
    assert snapshot(api) == first
    sim.control.reset(**{**WORLD, "seed": 22})
    assert api.get("/org").content != first["/org"]


def test_two_servers_with_the_same_seed_serve_identical_bodies(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(**WORLD)
    sim.control.advance(minutes=30)
    with spawn(**WORLD) as other, api_client(other) as other_api:
        other.control.advance(minutes=30)
        assert snapshot(other_api) == snapshot(api)
        assert other.control.truth() == sim.control.truth()


def test_the_world_does_not_depend_on_how_the_clock_got_there(sim: RunningSim) -> None:
    sim.control.reset(**WORLD)
    for minutes in (20, 0, 100, 7.5, 52.5):
        sim.control.advance(minutes=minutes)
    stepped = sim.control.truth()
    sim.control.reset(**WORLD)
    sim.control.advance(minutes=180)
    assert sim.control.truth() == stepped


def test_advancing_ends_open_runs_and_adds_new_ones(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(seed=7, runs=3000, days=30, sessions=300)
    before = sim.control.truth()
    open_before = set(before["open_runs"])
    assert open_before
    terminal = [r["id"] for r in before["runs"] if r["terminal"]][:20]
    details = {run_id: api.get(f"/runs/{run_id}").content for run_id in terminal}

    moved = sim.control.advance(minutes=8 * 60)
    after = sim.control.truth()
    by_id = {r["id"]: r for r in after["runs"]}
    assert moved["now"] == after["now"] != before["now"]
    ended = [run_id for run_id in open_before if by_id[run_id]["terminal"]]
    assert moved["ended_runs"] == len(ended) == len(open_before)
    new = [r for r in after["runs"] if r["started_at"] > before["now"]]
    assert moved["new_runs"] == len(new) > 0
    assert any(not r["terminal"] for r in new), "some new runs are still in flight"
    assert after["counts"]["runs"] == before["counts"]["runs"] + len(new)
    assert all(by_id[r]["status"] in ("pending", "running") for r in after["open_runs"])
    for run_id, body in details.items():
        assert api.get(f"/runs/{run_id}").content == body, "a terminal run never changes"


def test_about_one_run_in_a_hundred_times_out_an_hour_or_more_after_it_started(
    sim: RunningSim, api: httpx.Client
) -> None:
    sim.control.reset(seed=7, runs=3000, days=30, sessions=100)
    timed_out = [r for r in sim.control.truth()["runs"] if r["status"] == "timed_out"]
    assert 10 <= len(timed_out) <= 60
    for run in timed_out[:5]:
        detail = api.get(f"/runs/{run['id']}").json()
        assert detail["duration_ms"] >= 60 * 60 * 1000
        assert detail["classification"] == "infrastructure"


def test_sessions_grow_and_their_earlier_events_never_change(sim: RunningSim, api: httpx.Client) -> None:
    before = {s["id"]: s for s in sim.control.truth()["sessions"]}
    growing = [s for s in before.values() if s["open"]]
    assert growing, "a fresh world has open sessions"
    traces = {s["id"]: api.get(f"/insights/sessions/{s['id']}/trace").json()["events"] for s in growing}

    moved = sim.control.advance(minutes=30)
    after = {s["id"]: s for s in sim.control.truth()["sessions"]}
    grown = [i for i in traces if after[i]["event_count"] > before[i]["event_count"]]
    assert moved["grown_sessions"] >= len(grown) > 0
    for session_id, events in traces.items():
        now_events = api.get(f"/insights/sessions/{session_id}/trace").json()["events"]
        assert now_events[: len(events)] == events
        assert len(now_events) == after[session_id]["event_count"]
    for session_id in grown:
        assert after[session_id]["last_event_at"] > before[session_id]["last_event_at"]


def test_sessions_close_after_thirty_idle_minutes(sim: RunningSim) -> None:
    sim.control.advance(minutes=6 * 60)
    truth = sim.control.truth()
    now = datetime.fromisoformat(truth["now"].replace("Z", "+00:00"))
    for session in truth["sessions"]:
        idle = now - datetime.fromisoformat(session["last_event_at"].replace("Z", "+00:00"))
        assert session["open"] == (idle.total_seconds() < 30 * 60)


def test_reset_restores_start_options_clears_faults_and_the_log(sim: RunningSim, api: httpx.Client) -> None:
    start = sim.control.truth()
    sim.control.reset(seed=99, runs=50, sessions=50, dialect="alt", latency_ms=5)
    sim.control.set_faults([{"kind": "500", "path": "/org$"}])
    api.get("/org")
    assert sim.control.requests()
    done = sim.control.reset()
    assert done["counts"] == start["counts"]
    assert sim.control.faults() == [] and sim.control.requests() == []
    assert sim.control.truth() == start
    assert api.get("/org").status_code == 200


def test_a_20000_run_world_builds_without_storing_children() -> None:
    # build time and memory are figures for the benchmark (bench/bench_sim.py), not assertions
    world = World(WorldOptions(runs=20_000))
    assert len(world.runs.plans) == 20_000


def test_a_20000_run_world_resets_and_pages_over_http(sim: RunningSim, api: httpx.Client) -> None:
    done: dict[str, Any] = sim.control.reset(runs=20_000, sessions=500)
    assert done["counts"]["runs_in_window"] == 20_000
    body = api.get("/runs", params={"range": "30d", "pageSize": 100, "page": 200}).json()
    assert body["total"] == 20_000 and len(body["rows"]) == 100
    assert len(api.get("/runs", params={"range": "30d", "pageSize": 100, "page": 201}).json()["rows"]) == 0
