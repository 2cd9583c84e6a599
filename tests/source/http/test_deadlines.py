"""A host that answers slowly on purpose is cut at the request deadline, whatever it drips,
and no request with its retries outlives the retry budget. Bounds are generous: they prove
that the cut happens, not how fast the machine is."""

from __future__ import annotations

import time

import pytest

from armature_source.errors import TransientError
from armature_source.http.client import RetryPolicy
from tests.support.hostile_server import HostileServer, client_for, drip_body, drip_headers, json_body


@pytest.mark.parametrize("drip", [drip_headers, drip_body], ids=["headers", "body"])
def test_a_host_dripping_bytes_is_cut_at_the_request_deadline(hostile: HostileServer, drip: object) -> None:
    hostile.route("/runs$", drip(every_s=0.1))  # type: ignore[operator]
    # a byte every 0.1 s never trips the 1 s read timeout: only the deadline can end it
    client = client_for(hostile, timeout_s=1.0, request_deadline_s=1.5,
                        retry=RetryPolicy(max_attempts=2, backoff_base_s=0.1))
    started = time.monotonic()
    with client, pytest.raises(TransientError) as caught:
        client.get("/runs")
    took = time.monotonic() - started
    assert 2 * 1.5 <= took < 15, took
    message = str(caught.value)
    assert "GET /runs kept failing" in message and "1.5 s request deadline" in message
    assert "after 2 attempts" in message and "run the load again" in message
    assert client.stats.timeouts == 2 and client.stats.requests == 2 and client.stats.retries == 1
    # cancelling the attempt closed its connection: the server saw the hang-up near the deadline
    deadline = time.monotonic() + 5
    while len(hostile.hangups) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [path for path, _, _ in hostile.hangups] == ["/api/armature/v1/runs"] * 2
    assert all(1.0 <= after < 6 for _, after, _ in hostile.hangups), hostile.hangups


def test_no_request_with_its_retries_outlives_the_retry_budget(hostile: HostileServer) -> None:
    hostile.route("/runs$", drip_headers(every_s=0.1))
    client = client_for(hostile, request_deadline_s=60.0,
                        retry=RetryPolicy(max_attempts=50, budget_s=2.5, backoff_base_s=0.1))
    started = time.monotonic()
    with client, pytest.raises(TransientError, match="GET /runs kept failing"):
        client.get("/runs")
    assert 2.0 <= time.monotonic() - started < 10


def test_a_request_that_keeps_meeting_its_deadline_does_not_hold_up_the_others(
    hostile: HostileServer,
) -> None:
    hostile.route("/slow$", drip_headers(every_s=0.1))
    hostile.route("/fast/", json_body({"rows": [{"id": "a"}]}))
    client = client_for(hostile, request_deadline_s=3.0, retry=RetryPolicy(max_attempts=1))
    with client:
        slow = client.submit("/slow")
        started = time.monotonic()
        bodies = list(client.get_many((f"/fast/{i}", None) for i in range(40)))
        fast_took = time.monotonic() - started
        with pytest.raises(TransientError):
            slow.result()
    assert len(bodies) == 40 and all(b == {"rows": [{"id": "a"}]} for b in bodies)
    assert fast_took < 3.0, "the fast requests waited for the dripping one"
