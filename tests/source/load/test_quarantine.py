"""Records that could not be loaded as served, kept once each, one rule a case.

The table and the conversion are built by hand: no pipeline, no Arrow conversion.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from armature_source.load.columns import Converted
from armature_source.load.quarantine import NO_KEY, RAW_LIMIT, REMEMBERED, Quarantine
from armature_source.tables import Table

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=timezone.utc)
RUNS = Table(
    name="runs", description="runs", key=("id",), disposition="merge",
    columns={"id": "text", "tokens": "bigint"},
    descriptions={"id": "the run", "tokens": "tokens used"},
)
EVENTS = Table(
    name="session_events", description="events", key=("session_id", "seq"), disposition="merge",
    columns={"session_id": "text", "seq": "bigint"},
    descriptions={"session_id": "the session", "seq": "its place"},
)
TOKENS_BAD = ["tokens: not an integer"]


def rejected(quarantine: Quarantine, table: Table, record: dict[str, Any],
             problems: list[str] | None) -> list[dict[str, Any]]:
    """The rows for one record: without its key (`problems` None), or with those problems."""
    converted = Converted(pa.table({}), dropped=[0]) if problems is None \
        else Converted(pa.table({}), problems={0: problems})
    return quarantine.rows(table, [record], converted)


def test_a_record_without_its_key_is_kept_whole_under_the_digest_of_its_text() -> None:
    record = {"tokens": 5}
    raw = json.dumps(record, sort_keys=True)
    [row] = rejected(Quarantine({}, NOW), RUNS, record, None)
    assert row == {
        "table_name": "runs", "record_key": "sha256:" + hashlib.sha256(raw.encode()).hexdigest(),
        "reason": NO_KEY, "columns_nulled": [], "detected_at": "2024-06-30T12:00:00+00:00",
        "raw": raw, "raw_truncated": False,
    }


ROWS = [
    pytest.param(RUNS, {"id": "r1", "tokens": "many"}, TOKENS_BAD,
                 ('{"id": "r1"}', "tokens: not an integer", ["tokens"]),
                 id="a value its column cannot hold names the column and the reason"),
    pytest.param(RUNS, {"id": "r1", "tokens": "many", "cost": "x"}, [*TOKENS_BAD, "cost: not a number"],
                 ('{"id": "r1"}', "tokens: not an integer; cost: not a number", ["tokens", "cost"]),
                 id="several problems of one record make one row"),
    pytest.param(EVENTS, {"session_id": "s1", "seq": 2, "at": "never"}, ["at: not a timestamp"],
                 ('{"seq": 2, "session_id": "s1"}', "at: not a timestamp", ["at"]),
                 id="the record key holds every key column"),
]


@pytest.mark.parametrize(("table", "record", "problems", "expected"), ROWS)
def test_a_record_with_problems_is_kept_under_its_key(
    table: Table, record: dict[str, Any], problems: list[str], expected: tuple[str, str, list[str]],
) -> None:
    [row] = rejected(Quarantine({}, NOW), table, record, problems)
    assert (row["record_key"], row["reason"], row["columns_nulled"]) == expected
    assert json.loads(row["raw"]) == record


def test_a_record_larger_than_the_raw_limit_is_cut_and_says_so() -> None:
    [row] = rejected(Quarantine({}, NOW), RUNS, {"id": "r1", "note": "x" * RAW_LIMIT}, ["note: too long"])
    assert len(row["raw"]) == RAW_LIMIT and row["raw_truncated"] is True


R1 = {"id": "r1", "tokens": "many"}
REPEATS = [
    pytest.param((RUNS, R1, TOKENS_BAD), True, (RUNS, R1, TOKENS_BAD), 0,
                 id="a record served again unchanged with the same problem is not rejected twice"),
    pytest.param((RUNS, R1, TOKENS_BAD), False, (RUNS, R1, TOKENS_BAD), 0,
                 id="a record served twice in one load is rejected once"),
    pytest.param((RUNS, R1, TOKENS_BAD), True, (RUNS, {**R1, "tokens": "more"}, TOKENS_BAD), 1,
                 id="a record served again changed is rejected again"),
    pytest.param((RUNS, R1, TOKENS_BAD), True, (RUNS, R1, ["tokens: negative"]), 1,
                 id="a record served again with another problem is rejected again"),
    pytest.param((RUNS, R1, TOKENS_BAD), True, (EVENTS, R1, TOKENS_BAD), 1,
                 id="the same record in another table is rejected there too"),
]


@pytest.mark.parametrize(("first", "delivered", "second", "rows"), REPEATS)
def test_a_rejection_is_kept_once(
    first: tuple[Table, dict[str, Any], list[str]], delivered: bool,
    second: tuple[Table, dict[str, Any], list[str]], rows: int,
) -> None:
    state: dict[str, Any] = {}
    quarantine = Quarantine(state, NOW)
    rejected(quarantine, *first)
    if delivered:
        quarantine.commit()
        quarantine = Quarantine(state, NOW + timedelta(hours=1))
    assert len(rejected(quarantine, *second)) == rows


def test_rejections_of_a_load_closed_before_commit_are_not_remembered() -> None:
    state: dict[str, Any] = {}
    rejected(Quarantine(state, NOW), RUNS, R1, TOKENS_BAD)
    assert len(rejected(Quarantine(state, NOW), RUNS, R1, TOKENS_BAD)) == 1


def test_rejected_now_counts_the_rows_of_this_load() -> None:
    quarantine = Quarantine({}, NOW)
    rejected(quarantine, RUNS, R1, TOKENS_BAD)
    rejected(quarantine, RUNS, R1, TOKENS_BAD)
    rejected(quarantine, RUNS, {"tokens": 1}, None)
    assert quarantine.rejected_now == 2


FORGETTING = [
    pytest.param(REMEMBERED - timedelta(days=1), 0, id="a rejection is remembered while the host may serve the record"),
    pytest.param(REMEMBERED + timedelta(days=1), 1, id="a rejection older than that is forgotten"),
]


@pytest.mark.parametrize(("later", "rows"), FORGETTING)
def test_commit_forgets_rejections_the_host_no_longer_serves(later: timedelta, rows: int) -> None:
    state: dict[str, Any] = {}
    first = Quarantine(state, NOW)
    rejected(first, RUNS, R1, TOKENS_BAD)
    first.commit()
    Quarantine(state, NOW + later).commit()
    assert len(rejected(Quarantine(state, NOW + later), RUNS, R1, TOKENS_BAD)) == rows
