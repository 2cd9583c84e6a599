"""Poison on demand: a chosen record served with a bad value, on every endpoint that serves it,
in both dialects, while the rest of each body stays as it was."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx
import pytest

from armature_sim.http.dialect import camel
from armature_sim.poison.rules import DEFAULT_FIELDS, RECORDS
from armature_sim.poison.spoil import BAD_VALUES, FUTURE_YEAR, LONE_SURROGATE
from armature_sim.server import RunningSim, spawn
from armature_sim.vocabulary import DEEP_JSON_DEPTH, POISON_KINDS

# enough of every list that a record the truth lists near the top is on the page asked for
LIST_PARAMS = {
    "/runs": {"range": "30d", "pageSize": 100},
    "/insights/sessions": {"range": "90d", "limit": 100},
    "/insights/topics": {"range": "90d", "limit": 200},
    "/insights/searches": {"range": "90d", "limit": 200},
}
ARRAY_KEYS = ("rows", "sessions", "events", "spans", "data")


def fetch(api: httpx.Client, endpoint: str) -> bytes:
    """The raw body of one endpoint, asked so that the lists reach far enough."""
    params = LIST_PARAMS.get(endpoint, {"range": "90d"} if endpoint.startswith("/insights") else {})
    response = api.get(endpoint, params=params)
    assert response.status_code == 200, response.text
    return response.content


def records_of(body: Any, rule: dict[str, Any]) -> list[Any]:
    """The records an endpoint's body carries: the body itself for a detail, else its array."""
    if not isinstance(body, dict) or not any(isinstance(body.get(key), list) for key in ARRAY_KEYS):
        return [body]
    if rule["record"] == "topic" and "sample_sessions" in body:  # a topic detail holds lists too
        return [body]
    return next(body[key] for key in ARRAY_KEYS if isinstance(body.get(key), list))


def key_of(rule: dict[str, Any], dialect: str) -> str:
    """The record's key member as the dialect spells it."""
    key = RECORDS[rule["record"]].key
    return camel(key) if dialect == "alt" else key


def spoiled_pairs(clean: bytes, poisoned: bytes, rule: dict[str, Any], dialect: str) -> tuple[Any, Any]:
    """(clean record, poisoned record) after checking every other part of the body is unchanged."""
    before, after = json.loads(clean), json.loads(poisoned)
    rows_before, rows_after = records_of(before, rule), records_of(after, rule)
    index = [row.get(key_of(rule, dialect)) for row in rows_before].index(rule["id"])
    assert len(rows_after) == len(rows_before)
    assert [r for i, r in enumerate(rows_after) if i != index] == [r for i, r in enumerate(rows_before) if i != index]
    if len(rows_before) > 1 or rows_before[0] is not before:
        rest = {k: v for k, v in after.items() if not isinstance(v, list)}
        assert rest == {k: v for k, v in before.items() if not isinstance(v, list)}
    return rows_before[index], rows_after[index]


def without(value: Any, char: str) -> Any:
    """The value with `char` taken out of every string in it."""
    if isinstance(value, str):
        return value.replace(char, "")
    if isinstance(value, dict):
        return {k: without(v, char) for k, v in value.items()}
    if isinstance(value, list):
        return [without(v, char) for v in value]
    return value


def depth(value: Any) -> int:
    """How many objects or arrays deep a JSON value nests."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def added_members(rule: dict[str, Any], field: str) -> dict[str, Any] | None:
    """What a kind that adds members beside the record's own adds; None for kinds that spoil `field`."""
    kind = rule["kind"]
    if kind == "camel_twin":
        head, *rest = field.split("_")
        return {head + "".join(part.title() for part in rest): ...}  # an instant in the future year
    if kind == "dashed_twin":
        return {"-".join(part.title() for part in field.split("_")): 123.45}
    if kind == "extra_field":
        return {field: rule["value"]}
    if kind == "many_keys":
        return {f"{field}_{i}": i for i in range(1, rule["count"] + 1)}
    return None


def assert_spoiled(rule: dict[str, Any], field: str, clean: Any, spoiled: Any, raw: bytes) -> None:
    """The poisoned record differs from the clean one exactly by the kind's bad value in `field`."""
    kind = rule["kind"]
    added = added_members(rule, field)
    if added is not None:
        assert {k: v for k, v in spoiled.items() if k in clean} == clean
        extra = {k: v for k, v in spoiled.items() if k not in clean}
        assert extra.keys() == added.keys()
        for name, value in added.items():
            if value is ...:
                assert extra[name][:4] == str(FUTURE_YEAR)
            else:
                assert extra[name] == value
        return
    assert {k: v for k, v in spoiled.items() if k != field} == {k: v for k, v in clean.items() if k != field}
    if kind == "missing_id":
        assert field not in spoiled
        return
    value = spoiled[field]
    if kind in ("lone_surrogate", "nul"):
        char = LONE_SURROGATE if kind == "lone_surrogate" else "\x00"
        assert without(value, char) != value
        assert without(value, char) == (clean[field] if clean[field] is not None else "")
        assert (b"\\ud800" if kind == "lone_surrogate" else b"\\u0000") in raw
    elif kind == "huge_int":
        assert value == BAD_VALUES[kind] and value >= 2**64
        assert re.search(rb'"%s":%d[,}]' % (field.encode(), value), raw)  # a bare JSON number
    elif kind == "deep_json":
        assert depth(value) == 40
    elif kind in ("nan", "infinity"):
        assert math.isnan(value) if kind == "nan" else value == math.inf
        assert re.search(rb'"%s":%s[,}]' % (field.encode(), b"NaN" if kind == "nan" else b"Infinity"), raw)
    elif kind == "fraction":
        assert value == 3.5 and clean[field] == int(clean[field])
    elif kind == "future_started_at":
        assert value[:4] == str(FUTURE_YEAR) and value[4:] == clean[field][4:]
    else:
        assert value == BAD_VALUES[kind]


def poison_and_compare(sim: RunningSim, api: httpx.Client, rule: dict[str, Any], dialect: str = "armature") -> None:
    """Put one rule in force and check every endpoint the truth names for it."""
    clean_truth = sim.control.truth()
    (resolved,) = sim.control.poison(rule)
    assert resolved["endpoints"]
    cleans = {}
    for endpoint in resolved["endpoints"]:
        sim.control.clear_poison()
        cleans[endpoint] = fetch(api, endpoint)
    sim.control.poison(rule)
    field = camel(resolved["field"]) if dialect == "alt" else resolved["field"]
    for endpoint in resolved["endpoints"]:
        raw = fetch(api, endpoint)
        before, after = spoiled_pairs(cleans[endpoint], raw, resolved, dialect)
        assert_spoiled(resolved, field, before, after, raw)
    assert sim.control.truth()["runs"] == clean_truth["runs"]


CASES = [
    (kind, record)
    for kind in POISON_KINDS
    for record in RECORDS
    if kind != "deep_json" and record in DEFAULT_FIELDS[kind] and (kind, record) not in {
        ("huge_int", "evaluation"), ("huge_int", "mcp_server"), ("huge_int", "workflow"),
        ("bad_timestamp", "evaluation"), ("zero_timestamp", "evaluation"),
        ("string_number", "evaluation"), ("string_number", "mcp_server"), ("string_number", "workflow"),
    } and (kind != "future_started_at" or record in ("run", "span", "tool_call", "session", "event"))
] + [("deep_json", record) for record in ("span", "tool_call", "event")]


def target(sim: RunningSim, record: str) -> dict[str, Any]:
    """How a test names a record of this kind: near the top of the lists that serve it."""
    truth = sim.control.truth()
    if record == "run":
        return {"id": next(r["id"] for r in truth["runs"] if r["terminal"])}
    if record == "topic":
        return {"id": truth["topics_listed"]["90d"][1]}
    if record == "failed_search":
        return {"id": truth["failed_searches_listed"]["90d"][1]}
    return {"nth": 2}


@pytest.mark.parametrize(("kind", "record"), CASES)
def test_a_poisoned_record_carries_the_bad_value_on_every_endpoint_serving_it(
    sim: RunningSim, api: httpx.Client, kind: str, record: str
) -> None:
    rule = {"kind": kind, "record": record, **target(sim, record)}
    if kind == "deep_json":
        rule["depth"] = 40
    poison_and_compare(sim, api, rule)


@pytest.mark.parametrize(("kind", "record", "field"), [
    ("nul", "tool_call", "arguments"), ("nul", "tool_call", "result"), ("nul", "span", "attributes"),
    ("lone_surrogate", "event", "metadata"), ("huge_int", "run", "duration_ms"), ("deep_json", "run", "reason"),
])
def test_the_field_to_spoil_can_be_named(
    sim: RunningSim, api: httpx.Client, kind: str, record: str, field: str
) -> None:
    rule = {"kind": kind, "record": record, "field": field, "depth": 40, **target(sim, record)}
    if kind != "deep_json":
        rule.pop("depth")
    poison_and_compare(sim, api, rule)


@pytest.mark.parametrize(("kind", "record"), [
    ("lone_surrogate", "run"), ("huge_int", "session"), ("missing_id", "evaluation"), ("nul", "tool_call"),
    ("deep_json", "span"), ("bad_timestamp", "event"), ("string_number", "topic"),
])
def test_the_alt_dialect_serves_the_same_poison_under_its_own_names(
    sim: RunningSim, api: httpx.Client, kind: str, record: str
) -> None:
    sim.control.reset(dialect="alt")
    rule = {"kind": kind, "record": record, **target(sim, record)}
    if kind == "deep_json":
        rule["depth"] = 40
    poison_and_compare(sim, api, rule, dialect="alt")


def test_default_depth_is_too_deep_for_json_yet_the_rest_of_the_body_is_valid(
    sim: RunningSim, api: httpx.Client
) -> None:
    (rule,) = sim.control.poison({"kind": "deep_json", "record": "tool_call", "nth": 1})
    assert rule["depth"] == DEEP_JSON_DEPTH
    (endpoint,) = rule["endpoints"]
    raw = fetch(api, endpoint)
    with pytest.raises(RecursionError):
        json.loads(raw)
    deep = b'{"deep":' * (DEEP_JSON_DEPTH - 1) + b"{}" + b"}" * (DEEP_JSON_DEPTH - 1)
    assert raw.count(deep) == 1
    flattened = json.loads(raw.replace(deep, b'"deep"'))
    sim.control.clear_poison()
    clean = json.loads(fetch(api, endpoint))
    assert flattened["rows"][0] == {**clean["rows"][0], "arguments": "deep"}
    assert flattened["rows"][1:] == clean["rows"][1:]


def test_whole_body_deep_json_nests_every_answer_carrying_the_record(sim: RunningSim, api: httpx.Client) -> None:
    (shallow,) = sim.control.poison({"kind": "deep_json", "record": "session", "nth": 1, "whole_body": True,
                                     "depth": 30})
    assert shallow["field"] is None and shallow["endpoints"] == ["/insights/sessions"]
    body = json.loads(fetch(api, "/insights/sessions"))
    for _ in range(30):
        (body,) = body
    sim.control.clear_poison()
    assert body == json.loads(fetch(api, "/insights/sessions"))
    sim.control.poison({"kind": "deep_json", "record": "session", "nth": 1, "whole_body": True})
    raw = fetch(api, "/insights/sessions")
    assert raw.startswith(b"[" * DEEP_JSON_DEPTH + b"{")
    with pytest.raises(RecursionError):
        json.loads(raw)


def test_nth_is_resolved_to_the_id_at_that_place_in_the_truth(sim: RunningSim) -> None:
    truth = sim.control.truth()
    judged = [r for r in truth["runs"] if r["has_evaluation"]]
    expected = {
        "run": truth["runs"][4]["id"],
        "evaluation": judged[4]["id"],
        "session": truth["sessions"][4]["id"],
        "topic": truth["topics"][4]["id"],
        "workflow": truth["workflow_records"][4]["id"],
    }
    for record, wanted in expected.items():
        (rule,) = sim.control.poison({"kind": "missing_id", "record": record, "nth": 5})
        assert (rule["id"], rule["nth"]) == (wanted, 5)
    (span,) = sim.control.poison({"kind": "nul", "record": "span", "nth": 12})
    assert span["parent"] == next(r["id"] for r in truth["runs"] if r["terminal"] and r["spans"] >= 12)
    (event,) = sim.control.poison({"kind": "nul", "record": "event", "nth": 9})
    assert event["parent"] == next(s["id"] for s in truth["sessions"] if s["event_count"] >= 9)


def test_a_child_named_by_id_is_found_under_its_parent(sim: RunningSim, api: httpx.Client) -> None:
    run_id = next(r["id"] for r in sim.control.truth()["runs"] if r["terminal"] and r["tool_calls"] >= 3)
    call = api.get(f"/runs/{run_id}/tool-calls").json()["rows"][2]
    (rule,) = sim.control.poison({"kind": "huge_int", "record": "tool_call", "id": call["id"]})
    assert (rule["parent"], rule["field"], rule["endpoints"]) == (run_id, "duration_ms", [f"/runs/{run_id}/tool-calls"])


def test_truth_reports_each_poison_and_how_often_it_was_served(sim: RunningSim, api: httpx.Client) -> None:
    rules = sim.control.poison([
        {"kind": "zero_timestamp", "record": "run", "nth": 1},
        {"kind": "string_number", "record": "run", "nth": 1},
        {"kind": "bad_timestamp", "record": "mcp_server", "nth": 1},
    ])
    assert sim.control.truth()["poison"] == rules
    assert [rule["served"] for rule in rules] == [0, 0, 0]
    fetch(api, "/runs")
    fetch(api, rules[0]["endpoints"][1])
    fetch(api, "/mcp-servers")
    served = sim.control.truth()["poison"]
    assert [rule["served"] for rule in served] == [2, 2, 1]
    assert [{k: v for k, v in r.items() if k != "served"} for r in served] == [
        {k: v for k, v in r.items() if k != "served"} for r in rules
    ]
    row = next(r for r in json.loads(fetch(api, "/runs"))["rows"] if r["id"] == rules[0]["id"])
    assert (row["started_at"], row["cost_usd"]) == (BAD_VALUES["zero_timestamp"], BAD_VALUES["string_number"])


def test_a_field_only_the_detail_serves_is_reported_on_the_detail_only(sim: RunningSim) -> None:
    (rule,) = sim.control.poison({"kind": "nul", "record": "run", "nth": 1, "field": "judge_model"})
    assert rule["endpoints"] == [f"/runs/{rule['id']}"]


def test_clearing_poison_serves_clean_bodies_again(sim: RunningSim, api: httpx.Client) -> None:
    clean = fetch(api, "/workflows")
    sim.control.poison({"kind": "lone_surrogate", "record": "workflow", "nth": 1})
    assert fetch(api, "/workflows") != clean
    sim.control.clear_poison()
    assert fetch(api, "/workflows") == clean
    assert sim.control.poisons() == [] and sim.control.truth()["poison"] == []


def test_reset_clears_added_poison_and_its_poison_option_puts_rules_in_force(
    sim: RunningSim, api: httpx.Client
) -> None:
    sim.control.poison({"kind": "nul", "record": "topic", "nth": 1})
    sim.control.reset()
    assert sim.control.poisons() == []
    sim.control.reset(poison=[{"kind": "missing_id", "record": "workflow", "nth": 2}])
    (rule,) = sim.control.poisons()
    workflow_id = sim.control.truth()["workflow_records"][1]["id"]
    assert rule["id"] == workflow_id
    assert "id" not in api.get(f"/workflows/{workflow_id}").json()


@pytest.mark.parametrize("rule", [
    {"kind": "radioactive", "record": "run", "nth": 1},
    {"kind": "nul", "record": "invoice", "nth": 1},
    {"kind": "nul", "record": "run", "nth": 1, "field": "colour"},
    {"kind": "huge_int", "record": "workflow", "nth": 1},
    {"kind": "nul", "record": "run", "nth": 1, "id": "x"},
    {"kind": "nul", "record": "run"},
    {"kind": "nul", "record": "run", "nth": 100_000},
    {"kind": "nul", "record": "session", "id": "no-such-session"},
    {"kind": "nul", "record": "span", "nth": 1, "parent": "no-such-run"},
    {"kind": "nul", "record": "run", "nth": 1, "parent": "x"},
    {"kind": "nul", "record": "run", "nth": 1, "whole_body": True},
    {"kind": "deep_json", "record": "span", "nth": 1, "depth": 0},
    {"kind": "nul", "record": "run", "nth": 1, "colour": "red"},
])
def test_a_bad_poison_rule_is_refused_and_nothing_changes(sim: RunningSim, rule: dict[str, Any]) -> None:
    sim.control.poison({"kind": "nul", "record": "run", "nth": 1})
    with pytest.raises(RuntimeError, match="400"):
        sim.control.poison([{"kind": "nul", "record": "topic", "nth": 1}, rule])
    assert [r["record"] for r in sim.control.poisons()] == ["run"]
    with pytest.raises(RuntimeError, match="400"):
        sim.control.reset(poison=[rule])


def test_a_simulator_started_with_poison_serves_it() -> None:
    rule = {"kind": "huge_int", "record": "session", "nth": 1}
    with spawn(runs=40, sessions=60, poison=[rule]) as started:
        (served,) = started.control.truth()["poison"]
        headers = {"Authorization": f"Bearer {started.api_key}"}
        body = httpx.get(f"{started.api_url}/insights/sessions", params={"range": "90d"}, headers=headers).json()
        assert body["sessions"][0]["id"] == served["id"]
        assert body["sessions"][0]["event_count"] == BAD_VALUES["huge_int"]
