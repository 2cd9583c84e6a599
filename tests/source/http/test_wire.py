"""What goes over the wire, read back from the server's raw request lines: ids stay one
encoded path segment, redirects are refused unfollowed, and the key never shows in a
message, even when the host echoes it back."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import unquote

import pytest

from armature_source.errors import ArmatureError, ConfigError
from armature_source.http.client import ArmatureClient, RequestStats, RetryPolicy
from tests.support.hostile_server import (
    API_PREFIX,
    KEY,
    HostileServer,
    client_for,
    drip_headers,
    echo,
    echo_key,
    json_body,
    redirect,
)

IDS = ["a/b", "x?y=1", "frag#1", "100%", "%2e%2e", "..", ".", "with space", "ünï/cødé", "e\u0301",
       "a;b=c", "\\back", "tab\tnew\nline", "+plus&amp=1"]


def test_every_id_reaches_the_server_as_one_encoded_path_segment(hostile: HostileServer) -> None:
    hostile.route("/", echo())
    with client_for(hostile) as client:
        for run_id in IDS:
            client.get(client.path("runs", run_id, "trace"))
    lines = [r.line for r in hostile.requests]
    assert len(lines) == len(IDS)
    for run_id, request in zip(IDS, hostile.requests, strict=True):
        assert request.line == f"GET {request.target} HTTP/1.1"
        assert "?" not in request.target and "#" not in request.target and " " not in request.target
        prefix, segment, tail = request.target.rsplit("/", 2)
        assert prefix == f"{API_PREFIX}/runs" and tail == "trace", request.line
        assert unquote(segment) == run_id, request.line
        assert segment not in (".", "..")


def test_query_parameters_are_encoded_and_the_path_kept(hostile: HostileServer) -> None:
    hostile.route("/", echo())
    with client_for(hostile) as client:
        body = client.get("/runs", {"search": "a&b=c #1/ü", "page": 2})
    assert body["target"] == f"{API_PREFIX}/runs?search=a%26b%3Dc+%231%2F%C3%BC&page=2"


def test_a_redirect_is_refused_unfollowed_with_a_config_error(hostile: HostileServer) -> None:
    hostile.route("/org$", redirect("https://elsewhere.example/api/armature/v1/org"))
    with client_for(hostile) as client, pytest.raises(ConfigError) as caught:
        client.get("/org")
    message = str(caught.value)
    assert "302 from GET /org" in message and "https://elsewhere.example" in message
    assert "final URL as the base URL" in message
    assert len(hostile.requests) == 1


def test_headers_sent_carry_the_key_only_in_authorization(hostile: HostileServer) -> None:
    hostile.route("/", echo())
    with client_for(hostile) as client:
        headers = client.get("/org", keep_keys=True)["headers"]
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["user-agent"].startswith("armature-dlt/")
    assert KEY not in repr(client) and KEY not in repr(client.stats)


def secret_free(text: str) -> bool:
    return KEY not in text and KEY.split("_", 2)[2] not in text


@pytest.mark.parametrize("status", [400, 401, 403, 404, 301, 500])
def test_a_host_echoing_the_key_back_never_gets_it_into_a_message_or_log(
    hostile: HostileServer, status: int, caplog: Any,
) -> None:
    hostile.route("/", echo_key(status))
    with caplog.at_level(logging.DEBUG), client_for(
        hostile, retry=RetryPolicy(max_attempts=2, backoff_base_s=0.01)
    ) as client:
        with pytest.raises(ArmatureError) as caught:
            client.get("/runs/r1")
        failed, = client.get_many([("/runs/r2", None)], failed_ok=True) if status == 404 else [None]
    chain = []
    seen: BaseException | None = caught.value
    while seen is not None:
        chain.append(f"{type(seen).__name__}: {seen!r} {seen}")
        seen = seen.__cause__ or seen.__context__
    assert secret_free("\n".join(chain)), chain
    assert secret_free("\n".join(r.getMessage() for r in caplog.records))
    assert secret_free(repr(failed))
    if status in (400, 403):
        assert "<api key>" in str(caught.value), "the host's message is shown, scrubbed"


def test_cannot_reach_names_the_host_but_no_credentials() -> None:
    from armature_source.credentials import Connection

    client = ArmatureClient(Connection.checked("http://127.0.0.1:9", KEY))
    with client, pytest.raises(ConfigError) as caught:
        client.get("/org")
    message = str(caught.value)
    assert message.startswith("Cannot reach the Armature host at http://127.0.0.1:9/api/armature/v1")
    assert secret_free(message)


def test_per_call_stats_count_besides_the_client_wide_ones(hostile: HostileServer) -> None:
    hostile.route("/runs/", json_body({"rows": []}))
    hostile.route("/org$", json_body({"organization": {"id": "o"}}))
    runs, org = RequestStats(), RequestStats()
    with client_for(hostile) as client:
        client.get("/org", stats=org)
        list(client.get_many(((f"/runs/{i}/trace", None) for i in range(5)), stats=runs))
        future = client.submit("/runs/prefetched/trace", stats=runs)
        assert future.result(timeout=10) == {"rows": []}
    assert org.requests == 1 and runs.requests == 6
    assert client.stats.requests == 7
    assert client.stats.as_dict()["requests"] == 7


def test_submit_answers_missing_for_a_404_and_get_raises(hostile: HostileServer) -> None:
    from armature_source.errors import NotFoundError
    from armature_source.http.client import Missing

    with client_for(hostile) as client:
        gone = client.submit("/runs/gone").result(timeout=10)
        assert gone == Missing("/runs/gone", "not_found")
        with pytest.raises(NotFoundError, match="404 from GET /runs/gone"):
            client.get("/runs/gone")


def test_http_proxy_carries_the_requests_and_no_proxy_exempts_the_host(
    hostile: HostileServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from armature_source.credentials import Connection

    hostile.route("/", echo())
    monkeypatch.setenv("HTTP_PROXY", hostile.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    unused = "http://127.0.0.1:9"  # nothing listens there: only the proxy can answer
    with ArmatureClient(Connection.checked(unused, KEY)) as client:
        target = client.get("/org", keep_keys=True)["target"]
    assert target == f"{unused}{API_PREFIX}/org", "the proxy got the request in absolute form"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with ArmatureClient(Connection.checked(unused, KEY)) as client, pytest.raises(ConfigError):
        client.get("/org")


def test_submit_all_answers_each_request_in_order_with_its_body_missing_or_error(hostile: HostileServer) -> None:
    from armature_source.errors import ApiError
    from armature_source.http.client import Missing

    hostile.route("/runs/bad/", json_body({"error": {"code": "bad", "message": "no"}}, status=400))
    hostile.route("/runs/ok/", json_body({"rows": [1]}))
    stats, seen = RequestStats(), []
    requests = [("/runs/ok/trace", None), ("/runs/gone/trace", None), ("/runs/bad/trace", None),
                ("/runs/ok/tool-calls", None)]
    with client_for(hostile) as client:
        answers = client.submit_all(requests, stats=stats, on_answer=seen.append).result(timeout=10)
    assert answers[0] == {"rows": [1]} and answers[3] == {"rows": [1]}
    assert answers[1] == Missing("/runs/gone/trace", "not_found")
    assert isinstance(answers[2], ApiError) and "400 from GET /runs/bad/trace" in str(answers[2])
    assert stats.requests == 4 and len(hostile.requests) == 4
    assert sorted(map(str, seen)) == sorted(map(str, [answers[0], answers[1], answers[3]]))


def test_cancelling_submit_all_cancels_every_request_it_started(hostile: HostileServer) -> None:
    hostile.route("/", drip_headers(1.0))
    with client_for(hostile) as client:
        future = client.submit_all([(f"/runs/{i}/trace", None) for i in range(4)])
        deadline = time.monotonic() + 10
        while len(hostile.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(hostile.requests) == 4
        assert future.cancel()
        on_loop = client._loop.submit(_in_flight(client))
        deadline = time.monotonic() + 10
        while on_loop.result(timeout=10) and time.monotonic() < deadline:
            on_loop = client._loop.submit(_in_flight(client))
            time.sleep(0.05)
        assert on_loop.result(timeout=10) == 0


async def _in_flight(client: ArmatureClient) -> int:
    return sum(1 for task in asyncio.all_tasks() if task is not asyncio.current_task())
