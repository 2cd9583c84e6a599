"""Simulated hours of 15-minute loads against a hostile host, then the warehouse is exact.

32 loads, eight hours (ARMATURE_SOAK_LOADS sets another number: 96 is a day, 672 a week), each through the command's
own load procedure, while the simulator's clock runs during every load; 429s, 5xx answers and
cut connections at random; poison records from the start; children that appear 30 minutes
after their run ends; and a `kill -9` in a few loads chosen by a seeded random. After the last
load every table holds what the host serves, every poison is in `rejected_records` once, and
no key is duplicated.
"""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest

from armature_pipeline.load.runner import run_load
from armature_pipeline.settings import Settings
from tests.support.expectations import assert_no_duplicate_keys
from tests.support.warehouse import DATASET, Warehouse

LOADS = int(os.environ.get("ARMATURE_SOAK_LOADS", "32"))
WORLD = dict(seed=41, runs=360, days=30, sessions=240)
KILLS = 3
FAULTS = [
    {"kind": "429", "rate": 0.04, "retry_after": "1"},
    {"kind": "503", "rate": 0.03},
    {"kind": "cut", "rate": 0.01},
]


@pytest.mark.slow
def test_hours_of_loads_against_a_hostile_host_ends_exact(sim: Any, tmp_path: Path) -> None:
    control = sim.control
    control.reset(**WORLD)
    rng = random.Random(41)
    truth = control.truth()
    poisoned = _poison(control, truth)
    control.configure(children_delay_minutes=30, clock_speed=30)
    wh = Warehouse(tmp_path)
    settings = Settings(destination=None, dataset=DATASET, pipeline_name=wh.name,
                        pipelines_dir=str(wh.pipelines_dir), duckdb_file=str(wh.db_path),
                        source_args={"base_url": sim.api_url, "api_key": sim.api_key})
    started = control.now()
    kills = set(rng.sample(range(1, LOADS - 1), KILLS))
    outcomes = []
    for step in range(LOADS):
        control.set_faults(FAULTS if rng.random() < 0.5 else [])
        if step in kills:
            killed = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                            crash_at=f"request:{rng.randint(3, 30)}")
            assert killed.returncode == -signal.SIGKILL, killed.stderr
        else:
            outcomes.append(run_load(settings)[1].code)
        control.advance(minutes=15)
    control.clear_faults()
    control.freeze()
    assert run_load(settings)[1].ok
    assert outcomes.count(0) >= len(outcomes) * 0.8, f"most loads succeed: {outcomes}"
    _assert_exact(wh, control.truth(), poisoned, started)


def _poison(control: Any, truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Spoil a few records; returns the resolved rules by kind."""
    terminal = sorted((r for r in truth["runs"] if r["terminal"] and r["spans"]), key=lambda r: r["id"])
    growing = sorted((s for s in truth["sessions"] if s["open"] and s["event_count"]), key=lambda s: s["id"])
    rules = control.poison([
        {"kind": "huge_int", "record": "run", "id": terminal[0]["id"], "field": "duration_ms"},
        {"kind": "string_number", "record": "run", "id": terminal[1]["id"]},
        {"kind": "bad_timestamp", "record": "span", "nth": 1, "parent": terminal[2]["id"]},
        {"kind": "missing_id", "record": "run", "id": terminal[3]["id"]},
        {"kind": "lone_surrogate", "record": "run", "id": terminal[4]["id"], "field": "reason"},
        {"kind": "bad_timestamp", "record": "event", "nth": 1, "parent": growing[0]["id"]},
    ])
    return {f"{r['kind']}:{r['record']}": r for r in rules}


def _assert_exact(wh: Warehouse, truth: dict[str, Any], poisoned: dict[str, Any], started: Any) -> None:
    keyless = poisoned["missing_id:run"]["id"]
    runs = {r["id"]: r for r in truth["runs"] if r["id"] != keyless}
    loaded = dict(wh.query("select id, status from runs"))
    assert set(runs) <= set(loaded) and keyless not in loaded
    assert {i: loaded[i] for i in runs} == {i: r["status"] for i, r in runs.items()}
    spans = dict(wh.query("select run_id, count(*) from trace_spans group by 1"))
    calls = dict(wh.query("select run_id, count(*) from tool_calls group by 1"))
    evaluated = wh.ids("evaluations", "run_id")
    for run_id, run in runs.items():
        ready = run["terminal"] and run["children_available"]
        assert spans.get(run_id, 0) == (run["spans"] if ready else 0), run_id
        assert calls.get(run_id, 0) == (run["tool_calls"] if ready else 0), run_id
        assert (run_id in evaluated) == (ready and run["has_evaluation"]), run_id

    events = dict(wh.query("select session_id, count(*) from session_events group by 1"))
    sessions = dict(wh.query("select id, event_count from sessions"))
    for session in truth["sessions"]:
        if session["last_event_at"] >= started.isoformat().replace("+00:00", "Z"):
            assert sessions.get(session["id"]) == session["event_count"], session["id"]
            assert events.get(session["id"]) == session["event_count"], session["id"]

    reasons = {(t, r) for t, r in wh.query("select table_name, reason from rejected_records")}
    keys = [(t, k) for t, k in wh.query("select table_name, record_key from rejected_records")]
    assert len(keys) == len(set(keys)) == 5, f"each poison rejected once: {keys}"
    assert ("runs", "no key") in reasons
    assert {t for t, _ in reasons} == {"runs", "trace_spans", "session_events"}
    assert wh.query(f"select duration_ms from runs where id = '{poisoned['huge_int:run']['id']}'") == [(None,)]
    [(reason,)] = wh.query(f"select reason from runs where id = '{poisoned['lone_surrogate:run']['id']}'")
    assert "\ufffd" in reason
    for _, key in keys:
        if not key.startswith("sha256:"):
            assert json.loads(key)
    assert_no_duplicate_keys(wh)
