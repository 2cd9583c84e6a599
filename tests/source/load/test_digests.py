"""Rows unchanged since the last delivered load are dropped, one rule a case."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from armature_source.load.digests import Digests

Row = dict[str, Any]
A = {"id": "a", "status": "done", "tokens": 10}
B = {"id": "b", "status": "running", "tokens": 3}
WHEN = datetime(2024, 6, 30, tzinfo=timezone.utc)


def delivered(state: dict[str, Any], rows: list[Row]) -> None:
    """A load that yielded `rows` and committed their digests."""
    digests = Digests(state)
    digests.fresh(rows)
    digests.commit()


FRESH = [
    pytest.param([], [A, B], [A, B], id="a first load keeps every row"),
    pytest.param([A, B], [A, B], [], id="rows delivered unchanged are dropped"),
    pytest.param([A, B], [A, {**B, "status": "done"}], [{**B, "status": "done"}],
                 id="a changed row is kept"),
    pytest.param([A], [A, B], [B], id="a new row is kept"),
    pytest.param([A], [{"tokens": 10, "status": "done", "id": "a"}], [],
                 id="the order of a row's fields does not matter"),
    pytest.param([{**A, "at": WHEN}], [{**A, "at": WHEN}], [],
                 id="values JSON cannot hold are compared by their text"),
    pytest.param([A], [{**A, "id": "b"}], [{**A, "id": "b"}],
                 id="rows are told apart by their key"),
]


@pytest.mark.parametrize(("before", "now", "kept"), FRESH)
def test_fresh_keeps_the_rows_that_changed_since_the_last_delivered_load(
    before: list[Row], now: list[Row], kept: list[Row],
) -> None:
    state: dict[str, Any] = {}
    delivered(state, before)
    assert Digests(state).fresh(now) == kept


def test_a_load_closed_before_commit_remembers_nothing() -> None:
    state: dict[str, Any] = {}
    Digests(state).fresh([A, B])  # yielded, never delivered
    assert Digests(state).fresh([A, B]) == [A, B]


def test_rows_are_keyed_by_the_column_named() -> None:
    state: dict[str, Any] = {}
    rows = [{"topic_id": "t1", "n": 1}]
    delivered_digests = Digests(state)
    delivered_digests.fresh(rows, key="topic_id")
    delivered_digests.commit()
    assert list(state["digests"]) == ["topic_id:t1"]
    assert Digests(state).fresh(rows, key="topic_id") == []


CHANGED = [
    pytest.param(None, {"x": 1}, True, id="a key never delivered has changed"),
    pytest.param({"x": 1}, {"x": 1}, False, id="the value last delivered under a key has not"),
    pytest.param({"x": 1}, {"x": 2}, True, id="another value under a delivered key has changed"),
]


@pytest.mark.parametrize(("before", "now", "changed"), CHANGED)
def test_changed_compares_with_what_was_last_delivered_under_the_key(
    before: Any, now: Any, changed: bool,
) -> None:
    state: dict[str, Any] = {}
    if before is not None:
        first = Digests(state)
        first.changed("overview", before)
        first.commit()
    assert Digests(state).changed("overview", now) is changed
