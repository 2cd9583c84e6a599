"""Wrong clocks never move a cursor past what the data shows: a host `Date` header three days
ahead for one load, and a clock that runs during the load. A warehouse loaded under the fault
ends equal to one loaded at the same instants without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.expectations import assert_holds_what_the_host_serves
from tests.support.warehouse import Warehouse

WORLD = dict(seed=23, runs=400, days=30, sessions=300)
THREE_DAYS = 3 * 24 * 3600


def test_a_date_header_three_days_ahead_for_one_load_loses_nothing_and_dates_nothing_ahead(
    sim: Any, tmp_path: Path, caplog: Any
) -> None:
    control = sim.control
    control.reset(**WORLD)
    clean, faulted = Warehouse(tmp_path / "clean"), Warehouse(tmp_path / "faulted")
    clean.load(sim)
    faulted.load(sim)
    for step in range(3):
        control.advance(minutes=45)
        clean.load(sim)
        if step == 1:
            control.configure(date_offset_s=THREE_DAYS)
            with caplog.at_level("WARNING", logger="armature_source"):
                faulted.load(sim)
            control.configure(date_offset_s=0)
        else:
            faulted.load(sim)
    for table in ("sessions", "session_events", "topic_snapshots", "insights_overview", "runs",
                  "trace_spans", "failed_search_snapshots"):
        assert faulted.content(table) == clean.content(table), table
    today = control.now().date()
    assert {r[0] for r in faulted.query("select snapshot_date from topic_snapshots")} <= {today}
    assert any("not trusted" in r.getMessage() for r in caplog.records)


def test_a_clock_running_during_the_loads_loses_nothing(sim: Any, tmp_path: Path) -> None:
    control = sim.control
    control.reset(**WORLD)
    control.configure(clock_speed=600)  # ten simulated minutes each second
    wh = Warehouse(tmp_path)
    for _ in range(3):
        wh.load(sim)
    control.freeze()
    wh.load(sim)  # the last load at a standing clock, so truth and tables speak of one instant
    assert_holds_what_the_host_serves(wh, control.truth())


def test_a_run_stamped_2099_while_the_clocks_disagree_never_becomes_now_nor_the_cursor(
    sim: Any, tmp_path: Path,
) -> None:
    control = sim.control
    control.reset(**WORLD)
    newest = max(control.truth()["runs"], key=lambda r: r["started_at"])
    control.poison([{"kind": "future_started_at", "record": "run", "id": newest["id"]}])
    control.configure(date_offset_s=20 * 60)  # the host's Date 20 minutes off its own data
    wh = Warehouse(tmp_path)
    wh.load(sim)
    state = wh.pipeline().state["sources"]["armature"]["resources"]["runs"]
    assert not state["mark"].startswith("2099"), state["mark"]
    for _ in range(2):
        control.advance(minutes=90)
        wh.load(sim)
    truth = control.truth()
    assert_holds_what_the_host_serves(wh, truth)
    assert wh.ids("runs") >= {r["id"] for r in truth["runs"]}


def test_a_cursor_a_wrong_clock_left_in_the_future_is_read_back_from_the_window(
    sim: Any, tmp_path: Path,
) -> None:
    control = sim.control
    control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    pipeline = wh.pipeline()
    with pipeline.managed_state() as state:  # as an earlier version, fooled by a clock, left it
        state["sources"]["armature"]["resources"]["runs"]["mark"] = "2099-01-01T00:00:00+00:00"
        state["sources"]["armature"]["resources"]["sessions"]["mark"] = "2099-01-01T00:00:00+00:00"
    control.advance(minutes=90)
    wh.load(sim)
    truth = control.truth()
    assert_holds_what_the_host_serves(wh, truth)
    marks = {r: wh.pipeline().state["sources"]["armature"]["resources"][r]["mark"] for r in ("runs", "sessions")}
    assert not any(m.startswith("2099") for m in marks.values()), marks
