"""The runs cursor's rules, one case a line: what a delivered batch does to the state, what the
mark moves by, and what an old state becomes. No HTTP, no dlt: a state dict and a clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from armature_source.resources.run_book import Batch, RunBook
from armature_source.resources.session_book import SessionBook

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
LOOKBACK = timedelta(minutes=60)


def at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


def run(run_id: str, minutes: float = -30, status: str = "pass") -> dict[str, Any]:
    return {"id": run_id, "started_at": at(minutes), "status": status}


def book(**state: Any) -> RunBook:
    return RunBook(dict(state), NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("stage, field, expected", [
    (lambda b: b.open(run("r", status="running")), "open", {"r": {"started_at": at(-30), "status": "running"}}),
    (lambda b: b.finish(run("r"), NOW), "done", {"r": at(-30)}),
    (lambda b: b.wait_for(run("r"), ["trace"], at(0)), "awaiting",
     {"r": {"started_at": at(-30), "status": "pass", "since": at(0), "missing": ["trace"]}}),
])
def test_a_committed_batch_writes_its_change_to_the_state(stage: Any, field: str, expected: Any) -> None:
    runs = book()
    batch = Batch()
    stage(batch)
    runs.commit(batch)
    assert runs.state[field] == expected  # type: ignore[literal-required]


def test_a_staged_batch_changes_nothing_until_it_is_committed() -> None:
    runs = book()
    batch = Batch()
    batch.open(run("a", status="running"))
    batch.finish(run("b"), NOW)
    assert runs.state == {"open": {}, "done": {}, "awaiting": {}}


@pytest.mark.parametrize("before, stage, after_open, after_awaiting, after_done", [
    ({"open": {"r": {"started_at": at(-30), "status": "running"}}}, "finish", {}, set(), {"r"}),
    ({"awaiting": {"r": {"started_at": at(-30), "status": "pass", "since": at(0), "missing": ["trace"]}}},
     "finish", {}, set(), {"r"}),
    ({"open": {"r": {"started_at": at(-30), "status": "running"}}}, "wait", {}, {"r"}, set()),
    ({"open": {"r": {"started_at": at(-30), "status": "running"}}}, "drop", {}, set(), set()),
    ({"awaiting": {"r": {"started_at": at(-30), "status": "pass", "since": at(0), "missing": ["trace"]}}},
     "drop", {}, set(), set()),
])
def test_a_run_moves_from_open_or_awaiting_to_where_its_batch_puts_it(
    before: dict[str, Any], stage: str, after_open: dict[str, Any], after_awaiting: set[str],
    after_done: set[str],
) -> None:
    runs = book(**before)
    batch = Batch()
    {"finish": lambda: batch.finish(run("r"), NOW), "wait": lambda: batch.wait_for(run("r"), ["trace"], at(0)),
     "drop": lambda: batch.drop("r")}[stage]()
    runs.commit(batch)
    assert runs.open == after_open and set(runs.awaiting) == after_awaiting and set(runs.done) == after_done


@pytest.mark.parametrize("listed_minutes, advance, mark_minutes", [
    ([-30, -10], True, -10),         # the newest started_at listed
    ([-30, 90], True, -30),          # a run beyond now + 1 h loads but never moves the mark
    ([-30, 59], True, 59),           # within the hour it does
    ([-30, -10], False, None),       # a listing cut short leaves the mark where it was
])
def test_the_mark_moves_to_the_newest_plausible_start_of_a_listing_delivered_whole(
    listed_minutes: list[float], advance: bool, mark_minutes: float | None,
) -> None:
    runs = book()
    for i, minutes in enumerate(listed_minutes):
        runs.wants(run(f"r{i}", minutes), None)
    runs.save(LOOKBACK, advance=advance)
    assert runs.state.get("mark") == (None if mark_minutes is None else at(mark_minutes))


@pytest.mark.parametrize("row, since, wanted", [
    (run("new", -30), NOW - timedelta(hours=1), True),                      # inside the span read
    (run("old", -120), NOW - timedelta(hours=1), False),                    # before it
    (run("done", -30), NOW - timedelta(hours=1), False),                    # loaded with its children
    (run("open", -120, "running"), NOW - timedelta(hours=1), True),         # open: re-read wherever
    (run("waiting", -30), NOW - timedelta(hours=1), False),                 # awaiting: its own retry
    ({"id": None, "started_at": at(-30)}, NOW, True),                       # no key: to be rejected
])
def test_a_listed_run_is_wanted_only_when_inside_the_span_or_still_open(
    row: dict[str, Any], since: datetime, wanted: bool,
) -> None:
    runs = book(done={"done": at(-30)}, open={"open": {"started_at": at(-120), "status": "running"}},
                awaiting={"waiting": {"started_at": at(-30), "status": "pass", "since": at(0), "missing": []}})
    assert runs.wants(row, since) is wanted


def test_done_runs_older_than_the_mark_minus_the_lookback_are_forgotten() -> None:
    runs = book(done={"old": at(-24 * 60), "recent": at(-20)})
    runs.wants(run("newest", -5), None)
    runs.save(LOOKBACK)
    assert set(runs.done) == {"recent"}


def test_open_runs_in_the_old_positional_shape_are_read_and_rewritten() -> None:
    runs = book(open={"r": [at(-30), "running"]})
    assert runs.open == {"r": {"started_at": at(-30), "status": "running"}}
    assert not runs.open_changed(run("r", status="running"))


SEEN = {"last_event_at": at(-5), "event_count": 3}


@pytest.mark.parametrize("known, row, since, wanted", [
    ({}, {"id": "s", "last_event_at": at(-5), "event_count": 3}, None, True),
    ({"s": SEEN}, {"id": "s", "last_event_at": at(-5), "event_count": 3}, None, False),
    ({"s": SEEN}, {"id": "s", "last_event_at": at(-1), "event_count": 4}, None, True),
    ({}, {"id": "s", "last_event_at": at(-120), "event_count": 3}, NOW - timedelta(hours=1), False),
    ({"s": [at(-5), 3]}, {"id": "s", "last_event_at": at(-5), "event_count": 3}, None, False),  # the old shape
])
def test_a_session_is_read_again_only_when_new_or_grown(
    known: dict[str, Any], row: dict[str, Any], since: datetime | None, wanted: bool,
) -> None:
    sessions = SessionBook({"known": known}, NOW)  # type: ignore[typeddict-item]
    assert sessions.wants(row, since) is wanted


def test_an_unreadable_trace_holds_the_sessions_mark_behind_its_session_until_given_up() -> None:
    sessions = SessionBook({}, NOW)
    held = {"id": "held", "last_event_at": at(-20), "event_count": 2}
    newest = {"id": "newest", "last_event_at": at(-1), "event_count": 1}
    assert sessions.unreadable(held, timedelta(hours=24)) is False
    sessions.read(newest)
    sessions.commit([held, newest], [newest], LOOKBACK)
    assert sessions.state["mark"] == (NOW - timedelta(minutes=20, seconds=1)).isoformat()
    assert set(sessions.state["unread"]) == {"held"}
    later = SessionBook(sessions.state, NOW + timedelta(hours=25))
    assert later.unreadable(held, timedelta(hours=24)) is True
    later.commit([held], [], LOOKBACK)
    assert later.state["unread"] == {}
