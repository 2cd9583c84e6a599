"""`--rate-limit-rps`: a token bucket per API key; an empty one answers 429 with an honest
`Retry-After`, counted in the truth and the request log."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from armature_sim.server import RunningSim, spawn
from armature_sim.vocabulary import API_KEYS

EDITOR_KEY = next(key for key, (_, _, role) in API_KEYS.items() if role == "editor")


def drain(api: httpx.Client, path: str = "/org") -> list[httpx.Response]:
    """Ask until the first 429, and return every answer."""
    answers = [api.get(path)]
    while answers[-1].status_code != 429:
        assert len(answers) < 1000, "the bucket never emptied"
        answers.append(api.get(path))
    return answers


def test_an_empty_bucket_answers_429_and_waiting_retry_after_is_served(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(rate_limit_rps=0.5, rate_limit_burst=3)
    limit = sim.control.truth()["rate_limit"]
    answers = drain(api)
    assert len(answers) == limit["burst"] + 1
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == str(math.ceil(1 / limit["rps"]))
    assert refused.headers["date"]
    time.sleep(int(refused.headers["retry-after"]))
    assert api.get("/org").status_code == 200


def test_retry_after_is_the_wait_for_the_next_token_rounded_up(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(rate_limit_rps=4)
    burst = sim.control.truth()["rate_limit"]["burst"]
    assert burst == 4  # one second's worth
    refused = drain(api)[-1]
    assert refused.headers["retry-after"] == "1"  # the next token is at most a quarter second away
    time.sleep(0.3)
    assert api.get("/org").status_code == 200


def test_each_key_has_its_own_bucket(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(rate_limit_rps=0.1, rate_limit_burst=2)
    drain(api)
    editor = {"Authorization": f"Bearer {EDITOR_KEY}"}
    assert api.get("/org", headers=editor).status_code == 200
    keys = sim.control.truth()["rate_limit"]["keys"]
    assert keys == {"key_demo": {"allowed": 2, "limited": 1}, "key_editor": {"allowed": 1, "limited": 0}}


def test_openapi_the_controls_and_unknown_keys_are_not_limited(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.reset(rate_limit_rps=0.1, rate_limit_burst=1)
    drain(api)
    assert all(api.get("/openapi").status_code == 200 for _ in range(5))
    assert all(sim.control.now() for _ in range(5))
    assert api.get("/org", headers={"Authorization": "Bearer amt_wrong_key"}).status_code == 401
    assert sim.control.truth()["rate_limit"]["limited"] == 1


def test_the_truth_and_the_request_log_count_what_was_let_through_and_refused(
    sim: RunningSim, api: httpx.Client
) -> None:
    sim.control.reset(rate_limit_rps=1, rate_limit_burst=5)
    for _ in range(12):
        api.get("/runs")
    limit = sim.control.truth()["rate_limit"]
    logged = sim.control.requests()
    assert limit["allowed"] == sum(1 for r in logged if not r["rate_limited"]) == sum(
        1 for r in logged if r["status"] == 200
    )
    assert limit["limited"] == sum(1 for r in logged if r["rate_limited"]) == sum(
        1 for r in logged if r["status"] == 429
    )
    assert limit["allowed"] >= limit["burst"] and limit["limited"] > 0
    assert limit["allowed"] + limit["limited"] == 12


def test_a_fault_429_is_not_counted_as_the_rate_limit(sim: RunningSim, api: httpx.Client) -> None:
    sim.control.set_faults([{"kind": "429", "path": "/org$", "times": 1}])
    assert api.get("/org").status_code == 429
    (logged,) = sim.control.requests()
    assert (logged["fault"], logged["rate_limited"]) == ("429", False)


def test_the_limit_is_set_and_lifted_by_config(sim: RunningSim, api: httpx.Client) -> None:
    switches = sim.control.configure(rate_limit_rps=0.1, rate_limit_burst=1)
    assert (switches["rate_limit_rps"], switches["rate_limit_burst"]) == (0.1, 1)
    assert [a.status_code for a in drain(api)] == [200, 429]
    sim.control.configure(rate_limit_rps=0)
    assert all(api.get("/org").status_code == 200 for _ in range(10))
    assert sim.control.truth()["rate_limit"] == {"rps": 0, "burst": 0, "allowed": 0, "limited": 0, "keys": {}}


@pytest.mark.parametrize("switch", [{"rate_limit_rps": -1}, {"rate_limit_burst": 1.5}, {"clock_speed": "fast"}])
def test_a_bad_switch_is_refused(sim: RunningSim, switch: dict[str, object]) -> None:
    with pytest.raises(RuntimeError, match="400"):
        sim.control._call("PUT", "/config", switch)


def test_a_simulator_started_with_a_rate_limit_applies_it() -> None:
    with spawn(runs=20, sessions=20, rate_limit_rps=0.1, rate_limit_burst=2) as started:
        headers = {"Authorization": f"Bearer {started.api_key}"}
        with httpx.Client(base_url=started.api_url, headers=headers) as client:
            assert [a.status_code for a in drain(client)] == [200, 200, 429]
        assert started.control.truth()["rate_limit"]["rps"] == 0.1
