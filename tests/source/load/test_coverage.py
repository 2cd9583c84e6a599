"""What the API cannot serve is said loudly and recorded: a window too old, a list cut."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from armature_source.timestamps import parse_ts
from tests.support.warehouse import Warehouse

LOOKBACK = timedelta(minutes=60)


def test_load_after_a_pause_longer_than_the_window_reports_the_exact_gap(
    sim: Any, tmp_path: Any, caplog: Any
) -> None:
    control = sim.control
    control.reset(seed=5, runs=120, days=30, sessions=150)
    wh = Warehouse(tmp_path)
    wh.load(sim, resources=["runs"])
    newest = max(parse_ts(r["started_at"]) for r in control.truth()["runs"])
    control.advance(minutes=32 * 24 * 60)
    with caplog.at_level("WARNING", logger="armature_source"):
        wh.load(sim, resources=["runs"])
    now = control.now()

    gaps = wh.query(
        "select kind, range, missing_from, missing_to from coverage_gaps where resource = 'runs'"
    )
    assert len(gaps) == 1
    kind, range_, missing_from, missing_to = gaps[0]
    assert (kind, range_) == ("window_gap", "30d")
    assert missing_from == newest - LOOKBACK
    assert abs(missing_to - (now - timedelta(days=30))) < timedelta(seconds=5)
    assert any("coverage gap: runs" in r.getMessage() for r in caplog.records)
    # what the 30-day window still serves is loaded all the same
    assert {r["id"] for r in control.truth()["runs"]} <= wh.ids("runs")

    shown = wh.cli("status")
    assert shown.returncode == 0, shown.stderr
    assert "runs: the last load reached" in shown.stdout


def test_sessions_list_cut_at_its_limit_is_reported_with_the_missing_count(
    sim: Any, tmp_path: Any, caplog: Any
) -> None:
    control = sim.control
    control.reset(seed=5, runs=60, days=30, sessions=400)
    truth = control.truth()
    limit = truth["session_list_limit"]
    total = truth["sessions_total"]["90d"]
    assert total > limit, "the world must hold more sessions than one list can serve"
    wh = Warehouse(tmp_path)
    with caplog.at_level("WARNING", logger="armature_source"):
        wh.load(sim, resources=["sessions"])

    assert wh.ids("sessions") == set(truth["sessions_listed"]["90d"])
    cuts = wh.query(
        "select kind, range, missing_count from coverage_gaps where resource = 'sessions'"
    )
    assert cuts == [("limit_cut", "90d", total - limit)]
    assert any("cut at its limit" in r.getMessage() for r in caplog.records)
    shown = wh.cli("status")
    assert f"{total - limit} more exist" in shown.stdout
