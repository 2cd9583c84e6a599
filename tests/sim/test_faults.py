"""Faults on demand and the request log, seen from a client over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from armature_sim.server import RunningSim


def statuses(api: httpx.Client, path: str, count: int) -> list[int]:
    """Status codes of `count` GETs in a row."""
    return [api.get(path).status_code for _ in range(count)]


def test_429_carries_retry_after_in_seconds(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "429", "path": "/org$", "retry_after": "3"}])
    response = api.get("/org")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.headers["date"]


def test_429_carries_retry_after_as_an_http_date_on_the_real_clock(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "429", "path": "/org$", "retry_after": "date"}])
    response = api.get("/org")
    assert response.status_code == 429
    retry_at = parsedate_to_datetime(response.headers["retry-after"])
    assert timedelta(0) <= retry_at - datetime.now(UTC) <= timedelta(seconds=3)


def test_500_is_a_json_internal_error(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "500", "path": "/runs$"}])
    response = api.get("/runs")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"


@pytest.mark.parametrize("kind", ["502", "503", "504"])
def test_proxy_errors_have_an_html_body(sim: RunningSim, api: httpx.Client, kind: str) -> None:
    sim.control.set_faults([{"kind": kind, "path": "/runs$"}])
    response = api.get("/runs")
    assert response.status_code == int(kind)
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_cut_drops_the_connection_mid_answer(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "cut", "path": "/workflows$", "times": 1}])
    with pytest.raises(httpx.TransportError):
        api.get("/workflows")
    assert api.get("/workflows").status_code == 200
    (cut, ok) = sim.control.requests()
    assert (cut["fault"], cut["status"]) == ("cut", None)
    assert (ok["fault"], ok["status"]) == (None, 200)


def test_bad_json_is_a_200_json_answer_that_fails_to_parse(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "bad_json", "path": "/runs$"}])
    response = api.get("/runs", params={"range": "30d"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_not_found_makes_an_existing_run_vanish(sim: RunningSim, api: httpx.Client) -> None:
    run_id = sim.control.truth()["runs"][0]["id"]
    sim.control.set_faults([{"kind": "not_found", "path": f"/runs/{run_id}$"}])
    response = api.get(f"/runs/{run_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/runs/{run_id}/trace").status_code == 200


def test_slow_delays_then_serves_normally(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "slow", "path": "/org$", "delay_ms": 400}])
    began = time.perf_counter()
    response = api.get("/org")
    assert time.perf_counter() - began >= 0.4
    assert response.status_code == 200


def test_latency_applies_from_the_config_and_at_reset(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.configure(latency_ms=300)
    began = time.perf_counter()
    assert api.get("/org").status_code == 200
    assert time.perf_counter() - began >= 0.3
    sim.control.configure(latency_ms=0)
    began = time.perf_counter()
    api.get("/org")
    assert time.perf_counter() - began < 0.3


def test_nth_fires_only_on_the_nth_matching_request(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "503", "path": "/workflows$", "nth": 3}])
    assert statuses(api, "/workflows", 5) == [200, 200, 503, 200, 200]
    (rule,) = sim.control.faults()
    assert (rule["matched"], rule["fired"]) == (5, 1)


def test_times_caps_how_often_a_rule_fires(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "500", "path": "/workflows$", "times": 2}])
    assert statuses(api, "/workflows", 4) == [500, 500, 200, 200]
    assert sim.control.faults()[0]["fired"] == 2


def test_rate_fires_about_that_often_and_the_same_way_every_time(sim: RunningSim, api: httpx.Client) -> None:
    rule = {"kind": "429", "path": "/org$", "rate": 0.3}
    sim.control.set_faults([rule])
    first = statuses(api, "/org", 100)
    fired = sim.control.faults()[0]["fired"]
    assert first.count(429) == fired
    assert 15 <= fired <= 45
    sim.control.set_faults([rule])
    assert statuses(api, "/org", 100) == first


def test_rules_match_by_path_and_method_only(sim: RunningSim, api: httpx.Client) -> None:
    run_id = sim.control.truth()["runs"][0]["id"]
    sim.control.set_faults([
        {"kind": "500", "path": "/runs/[^/]+/trace$"},
        {"kind": "502", "path": "/org$", "method": "POST"},
    ])
    assert api.get(f"/runs/{run_id}/trace").status_code == 500
    assert api.get(f"/runs/{run_id}").status_code == 200
    assert api.get("/runs").status_code == 200
    assert api.get("/org").status_code == 200
    assert [r["fired"] for r in sim.control.faults()] == [1, 0]


def test_clear_faults_removes_every_rule(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "500", "path": ""}])
    assert api.get("/org").status_code == 500
    sim.control.clear_faults()
    assert sim.control.faults() == []
    assert api.get("/org").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [{"kind": "418", "path": ""}, {"kind": "500", "path": "("}, {"kind": "500", "rate": 2},
     {"kind": "500", "nth": 1, "rate": 0.5}, {"kind": "429", "retry_after": "soon"}, {"kind": "500", "colour": "red"}],
)
def test_a_bad_rule_is_refused_and_nothing_changes(sim: RunningSim, rule: dict[str, object]) -> None:
    sim.control.set_faults([{"kind": "slow", "path": "/org$"}])
    with pytest.raises(RuntimeError, match="400"):
        sim.control.set_faults([rule])
    assert [r["kind"] for r in sim.control.faults()] == ["slow"]


def test_request_log_lists_api_requests_in_order_and_not_the_controls(sim: RunningSim, api: httpx.Client) -> None:
    api.get("/runs", params={"range": "7d", "pageSize": 5})
    api.get("/runs/nope")
    sim.control.truth()
    api.get("/insights/sessions", headers={"Authorization": "Bearer amt_wrong_key"})
    logged = sim.control.requests()
    assert [(r["method"], r["path"], r["status"]) for r in logged] == [
        ("GET", "/api/armature/v1/runs", 200),
        ("GET", "/api/armature/v1/runs/nope", 404),
        ("GET", "/api/armature/v1/insights/sessions", 401),
    ]
    assert logged[0]["query"] == "range=7d&pageSize=5"
    assert logged[0]["at"] == sim.control.truth()["now"]
    sim.control.clear_requests()
    assert sim.control.requests() == []
