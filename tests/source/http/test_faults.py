"""The fault matrix: every transient failure the simulator can inject, and the load still
ends with exactly the rows of the simulator's truth; when retries run out the command exits
1, names the endpoint, writes nothing, and the next run completes the data."""

from __future__ import annotations

import time
from typing import Any

import pytest

from armature_source.credentials import Connection
from armature_source.http.client import ArmatureClient
from tests.support.expectations import assert_first_load
from tests.support.warehouse import Warehouse

WORLD = dict(seed=31, runs=120, sessions=120)
CHILDREN = "/runs/[^/]+/(trace|tool-calls|evaluation)$"

# `times` keeps each case short; `rate` spreads the fires over the load.
MATRIX = {
    "429 with Retry-After seconds": {"kind": "429", "path": CHILDREN, "rate": 0.1, "times": 6, "retry_after": "1"},
    "429 with Retry-After date": {"kind": "429", "path": "/insights/", "rate": 0.3, "times": 3, "retry_after": "date"},
    "500 JSON": {"kind": "500", "path": "/runs", "rate": 0.1, "times": 8},
    "502 HTML from a proxy": {"kind": "502", "path": "/", "rate": 0.1, "times": 8},
    "503 HTML": {"kind": "503", "path": "/insights/sessions", "rate": 0.3, "times": 8},
    "504 HTML": {"kind": "504", "path": "/runs$", "nth": 1},
    "cut connection": {"kind": "cut", "path": "/", "rate": 0.05, "times": 8},
    "broken JSON": {"kind": "bad_json", "path": "/", "rate": 0.05, "times": 8},
    "slower than the timeout": {"kind": "slow", "path": CHILDREN, "nth": 5, "delay_ms": 2500},
}


@pytest.mark.parametrize("rule", MATRIX.values(), ids=list(MATRIX))
def test_load_through_transient_faults_ends_with_exactly_the_truth(
    sim: Any, tmp_path: Any, rule: dict[str, Any]
) -> None:
    control = sim.control
    control.reset(**WORLD)
    truth = control.truth()
    control.set_faults([rule])
    wh = Warehouse(tmp_path)
    wh.load(sim, timeout_s=1.0)
    fired = control.faults()[0]["fired"]
    assert fired > 0, "the fault never fired: the test would prove nothing"
    assert_first_load(wh, truth)


def test_retries_run_out_exit_1_name_the_endpoint_and_the_next_run_completes(
    sim: Any, tmp_path: Any
) -> None:
    control = sim.control
    control.reset(**WORLD)
    truth = control.truth()
    control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$"}])
    wh = Warehouse(tmp_path)
    args = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    env = {"SOURCES__ARMATURE__RETRY_BUDGET_S": "3", "SOURCES__ARMATURE__MAX_ATTEMPTS": "3"}
    started = time.monotonic()
    failed = wh.cli(*args, env=env)
    assert failed.returncode == 1
    assert time.monotonic() - started < 60, "retries must be bounded in time"
    assert "GET /runs/" in failed.stderr and "/trace kept failing" in failed.stderr
    assert "run the load again" in failed.stderr.lower() or "run again" in failed.stderr.lower()
    assert "runs" not in (wh.tables() if wh.db_path.exists() else set())

    control.clear_faults()
    done = wh.cli(*args)
    assert done.returncode == 0, done.stderr
    assert_first_load(wh, truth)


def test_retry_after_in_seconds_and_as_a_date_is_honoured(sim: Any) -> None:
    control = sim.control
    for retry_after, at_least in (("2", 2.0), ("date", 1.0)):
        control.set_faults([{"kind": "429", "path": "/org$", "nth": 1, "retry_after": retry_after}])
        with ArmatureClient(Connection.checked(sim.api_url, sim.api_key)) as client:
            started = time.monotonic()
            client.get("/org")
            waited = time.monotonic() - started
        assert waited >= at_least, (retry_after, waited)
        assert client.stats.rate_limited == 1


def test_repeated_429s_slow_the_client_down_and_it_recovers(sim: Any) -> None:
    control = sim.control
    runs = control.truth()["runs"]
    control.set_faults([{"kind": "429", "path": CHILDREN, "times": 12, "retry_after": "0"}])
    with ArmatureClient(Connection.checked(sim.api_url, sim.api_key), max_in_flight=8) as client:
        paths = [(f"/runs/{r['id']}/trace", None) for r in runs] * 2
        bodies = list(client.get_many(paths))
    lowest = [limit for _, limit in client.limiter.history]
    assert len(bodies) == len(paths) and all("spans" in b for b in bodies)
    assert min(lowest) <= 2, "twelve 429s in a row must cut the requests in flight"
    assert client.limiter.limit == 8, "after the storm the client must climb back"
    assert control.faults()[0]["fired"] == 12
    assert client.stats.rate_limited == 12
