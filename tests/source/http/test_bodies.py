"""Bodies a hostile or broken host sends: too large, cut short, null, empty, too deep, text
no destination takes. Each one either becomes clean values or fails naming the endpoint."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from armature_source.errors import BodyTooLargeError, ContractError
from armature_source.http.client import Failed, RequestStats, RetryPolicy
from armature_source.http.lenient_json import RAW, UNREADABLE
from armature_source.http.paging import iter_pages, pick_rows
from tests.support.hostile_server import (
    HostileServer,
    client_for,
    json_body,
    respond,
    sequence,
    stream_json,
)
from tests.support.rss_probe import RSS_PROBE
from tests.support.warehouse import REPO

MiB = 1024 * 1024
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base_s=0.05)


def test_a_body_beyond_the_cap_is_cut_off_while_streaming_and_names_endpoint_and_cap(
    hostile: HostileServer,
) -> None:
    hostile.route("/tool-calls$", stream_json(40 * MiB))
    with client_for(hostile, max_body_bytes=2 * MiB) as client:
        with pytest.raises(BodyTooLargeError) as caught:
            client.get("/runs/r1/tool-calls")
    message = str(caught.value)
    assert "GET /runs/r1/tool-calls" in message and "2 MiB cap" in message
    assert "max_body_bytes" in message
    assert isinstance(caught.value, ContractError)
    assert client.stats.too_large == 1 and client.stats.requests == 1, "a body too large is not retried"
    _, _, sent = hostile.hangups[0]
    assert sent < 20 * MiB, f"the client read on after the cap: the server sent {sent} bytes"


def test_a_declared_length_beyond_the_cap_fails_before_the_body_is_read(hostile: HostileServer) -> None:
    hostile.route("/tool-calls$", stream_json(10**12, declare_length=True))
    with client_for(hostile, max_body_bytes=MiB) as client, pytest.raises(BodyTooLargeError) as caught:
        client.get("/runs/r1/tool-calls")
    assert "953674 MiB declared" in str(caught.value)


def test_get_many_with_failed_ok_yields_failed_for_a_body_too_large_and_goes_on(
    hostile: HostileServer,
) -> None:
    hostile.route("/runs/big/tool-calls$", stream_json(8 * MiB))
    hostile.route("/runs/small/tool-calls$", json_body({"rows": [{"id": "c1"}]}))
    paths = [("/runs/small/tool-calls", None), ("/runs/big/tool-calls", None), ("/runs/small/tool-calls", None)]
    with client_for(hostile, max_body_bytes=MiB) as client:
        small, big, again = client.get_many(paths, failed_ok=True)
    assert small == again == {"rows": [{"id": "c1"}]}
    assert isinstance(big, Failed) and big.path == "/runs/big/tool-calls" and "1 MiB cap" in big.reason


@pytest.mark.parametrize("cap_mib", [8, 64])
def test_memory_stays_near_the_cap_on_a_200_mb_body(hostile: HostileServer, cap_mib: int) -> None:
    hostile.route("/org$", json_body({"organization": {"id": "o"}}))
    hostile.route("/tool-calls$", stream_json(200 * MiB))
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, hostile.api_url, "amt_rss_probesecret", str(cap_mib * MiB)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["outcome"] == "too large"
    assert figures["peak_delta"] < cap_mib * MiB * 1.3 + 40 * MiB, figures
    assert figures["peak_delta"] < 200 * MiB / 2, figures


def test_cut_json_is_retried_then_fails_naming_the_endpoint(hostile: HostileServer) -> None:
    hostile.route("/runs$", respond(b'{"rows": [{"id": "a"}, {"id": '))
    with client_for(hostile, retry=FAST_RETRY) as client, pytest.raises(ContractError) as caught:
        client.get("/runs")
    message = str(caught.value)
    assert "GET /runs answered 200 with a body that is not valid JSON" in message
    assert "3 attempts" in message
    assert len(hostile.requests) == 3 and client.stats.bad_bodies == 3


def test_cut_json_once_then_whole_loads(hostile: HostileServer) -> None:
    hostile.route("/runs$", sequence(respond(b'{"rows": [{"id": '), json_body({"rows": [{"id": "a"}]})))
    with client_for(hostile, retry=FAST_RETRY) as client:
        assert client.get("/runs") == {"rows": [{"id": "a"}]}
    assert client.stats.retries == 1


@pytest.mark.parametrize("depth", [1020, 5000])
def test_a_body_nested_too_deeply_is_read_and_the_member_is_one_unreadable_record(
    hostile: HostileServer, depth: int,
) -> None:
    hostile.route("/runs$", respond(b"[" * depth + b"]" * depth))
    with client_for(hostile, retry=FAST_RETRY) as client:
        body = client.get("/runs")
    (record,) = pick_rows(body)
    assert "where a record (an object) belongs" in record[UNREADABLE]
    assert "[[[" in record[RAW]


@pytest.mark.parametrize("body, shown", [
    (b"null", "null"), (b'"rows"', "a bare string"), (b"42", "a bare number"), (b"true", "true"),
])
def test_a_list_answered_with_null_or_a_scalar_names_the_endpoint(
    hostile: HostileServer, body: bytes, shown: str,
) -> None:
    hostile.route("/runs$", respond(body))
    with client_for(hostile) as client:
        with pytest.raises(ContractError) as caught:
            list(iter_pages(client, "/runs", {"range": "30d"}, "runs"))
        assert str(caught.value) == f"GET /runs answered {shown}; expected a JSON object or array."
        assert client.stats.requests == 1, "a well-formed answer is not retried"
        failed, = client.get_many([("/runs", None)], failed_ok=True)
        assert isinstance(failed, Failed)


def test_an_empty_object_from_org_names_the_endpoint(hostile: HostileServer) -> None:
    hostile.route("/org$", respond(b"{}"))
    with client_for(hostile) as client, pytest.raises(ContractError) as caught:
        client.get("/org")
    assert str(caught.value) == "GET /org answered an empty object {}; expected a JSON object or array."


def test_a_list_body_without_its_array_names_the_endpoint(hostile: HostileServer) -> None:
    hostile.route("/runs$", json_body({"page": 1, "note": "no rows here"}))
    with client_for(hostile) as client, pytest.raises(ContractError) as caught:
        list(iter_pages(client, "/runs", {"range": "30d"}, "runs"))
    assert str(caught.value).startswith("GET /runs: cannot find the list in a body with keys ['note', 'page']")


# raw JSON: NUL, lone high, lone low, a valid pair, an escaped backslash before u0000, bad UTF-8
NASTY = (b'{"rows": [{"id": "r1", "a": "x\\u0000y", "b": "\\ud800", "c": "z\\udc00", '
         b'"d": "\\ud83d\\ude00", "e": "\\\\u0000", "f": "caf\xe9", "g": "ok \xc3\xa9"}]}')


def test_nul_lone_surrogates_and_invalid_utf8_become_replacement_characters(
    hostile: HostileServer, caplog: Any,
) -> None:
    hostile.route("/runs/r1/trace$", respond(NASTY))
    mine = RequestStats()
    with client_for(hostile) as client, caplog.at_level(logging.WARNING, "armature_source"):
        body = client.get("/runs/r1/trace", stats=mine)
    row = body["rows"][0]
    assert row == {"id": "r1", "a": "x\ufffdy", "b": "\ufffd", "c": "z\ufffd", "d": "\U0001f600",
                   "e": "\\u0000", "f": "caf\ufffd", "g": "ok \u00e9"}
    assert client.stats.repairs == 4 and mine.repairs == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "GET /runs/r1/trace" in warnings[0] and "4 character(s)" in warnings[0]
    json.dumps(row).encode("utf-8")  # every string is real text now


def test_a_clean_body_is_parsed_as_served_and_snake_cased(hostile: HostileServer) -> None:
    hostile.route("/runs$", json_body({"rows": [{"workflowId": "w", "arguments": {"keepMe": 1}}],
                                       "pageSize": 1}))
    with client_for(hostile) as client:
        assert client.get("/runs") == {"rows": [{"workflow_id": "w", "arguments": {"keepMe": 1}}],
                                       "page_size": 1}
        assert client.get("/runs", keep_keys=True)["pageSize"] == 1
    assert client.stats.repairs == 0
