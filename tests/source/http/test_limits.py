"""Concurrency that adapts to the host, and pacing under a rate limit, against real servers.

Assertions are about what the client did (its limit, its 429 share, which request waited),
never about how fast the machine is.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from armature_source.http.client import RetryPolicy
from tests.support.hostile_server import (
    Conn,
    HostileServer,
    Request,
    TokenBucket,
    client_for,
    delayed,
    json_body,
    sequence,
)

BODY = {"rows": [{"id": "a"}]}


def test_the_limit_grows_to_max_in_flight_while_answers_are_fast_and_clean(hostile: HostileServer) -> None:
    hostile.route("/runs/", delayed(0.05, json_body(BODY)))
    with client_for(hostile, max_in_flight=16) as client:
        bodies = list(client.get_many((f"/runs/{i}/trace", None) for i in range(400)))
    assert bodies == [BODY] * 400
    assert client.limiter.history[0][1] == 4, "the limit starts small"
    assert max(limit for _, limit in client.limiter.history) == 16
    assert 8 < hostile.peak_in_flight <= 16


def test_server_errors_cut_the_limit_and_every_request_still_succeeds(hostile: HostileServer) -> None:
    calls = iter(range(1 << 30))
    lock = threading.Lock()
    ok, failing = delayed(0.02, json_body(BODY)), json_body({"error": {"code": "internal"}}, 503)

    def every_fifth_fails(conn: Conn, request: Request) -> bool:
        with lock:
            n = next(calls)
        return (failing if n % 5 == 4 else ok)(conn, request)

    hostile.route("/runs/", every_fifth_fails)
    with client_for(hostile, max_in_flight=16, retry=RetryPolicy(backoff_base_s=0.01)) as client:
        bodies = list(client.get_many((f"/runs/{i}/trace", None) for i in range(200)))
    assert bodies == [BODY] * 200
    assert client.stats.server_errors > 20 and client.stats.retries == client.stats.server_errors
    assert min(limit for _, limit in client.limiter.history[1:]) < 4, "5xx must cut the limit"


def test_rising_latency_trims_the_limit_below_its_ceiling(hostile: HostileServer) -> None:
    workers = threading.Semaphore(2)  # a host that serves 2 at a time: more only queue

    def queueing(conn: Conn, request: Request) -> bool:
        with workers:
            time.sleep(0.02)
        return json_body(BODY)(conn, request)

    hostile.route("/runs/", queueing)
    with client_for(hostile, max_in_flight=32) as client:
        list(client.get_many((f"/runs/{i}/trace", None) for i in range(500)))
    assert client.limiter.limit < 16, client.limiter.history[-20:]
    assert client.stats.requests == 500


def test_behind_a_token_bucket_at_most_5_percent_of_requests_are_answered_429(
    hostile: HostileServer,
) -> None:
    # the first round trip over the limit costs up to max_in_flight 429s, whatever follows:
    # enough requests that the test is about the pacing, not that first storm
    bucket = TokenBucket(rate=100, burst=20, latency_s=0.02, inner=json_body(BODY))
    hostile.route("/runs/", bucket)
    with client_for(hostile, max_in_flight=32) as client:
        bodies = list(client.get_many((f"/runs/{i}/trace", None) for i in range(1200)))
    assert bodies == [BODY] * 1200
    share = client.stats.rate_limited / client.stats.requests
    assert share <= 0.05, (client.stats, client.pacer.lessons)
    assert bucket.limited == client.stats.rate_limited
    assert client.pacer.lessons, "the client learned the host's rate"
    assert 50 <= client.pacer.lessons[-1][1] <= 200, client.pacer.lessons


def test_a_429_delays_only_its_own_request(hostile: HostileServer) -> None:
    limited = json_body({"error": {"code": "rate_limited"}}, 429, {"Retry-After": "4"})
    hostile.route("/runs/held/trace$", sequence(limited, json_body(BODY)))
    hostile.route("/runs/free", json_body(BODY))
    done: dict[str, float] = {}
    with client_for(hostile) as client:
        started = time.monotonic()
        held = client.submit("/runs/held/trace")
        held.add_done_callback(lambda _: done.setdefault("held", time.monotonic() - started))
        time.sleep(0.3)  # the 429 has come back before the others start
        for body in client.get_many((f"/runs/free{i}", None) for i in range(30)):
            assert body == BODY
        done["others"] = time.monotonic() - started
        assert held.result(timeout=15) == BODY
    assert done["others"] < done["held"], done
    assert done["held"] >= 4.0
    assert client.stats.rate_limited == 1


def test_retry_after_in_seconds_is_honoured_with_a_fractional_bucket(hostile: HostileServer) -> None:
    bucket = TokenBucket(rate=30, burst=5, latency_s=0.0, inner=json_body(BODY), fractional=True)
    hostile.route("/runs/", bucket)
    with client_for(hostile) as client:
        bodies: list[Any] = list(client.get_many((f"/runs/{i}", None) for i in range(120)))
    assert bodies == [BODY] * 120
    assert bucket.admitted == 120
    assert client.stats.rate_limited / client.stats.requests <= 0.2, client.stats
