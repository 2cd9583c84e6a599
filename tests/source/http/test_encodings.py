"""Compressed bodies: gzip and deflate are undone however many a host stacks, and the cap
counts decoded bytes, so a few KiB of gzip inside gzip cannot stand for gigabytes in memory."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib

import pytest

from armature_source.errors import BodyTooLargeError, ContractError
from armature_source.http.client import RetryPolicy
from tests.support.hostile_server import HostileServer, client_for, json_body, respond
from tests.support.rss_probe import RSS_PROBE
from tests.support.warehouse import REPO

MiB = 1024 * 1024
BODY = {"rows": [{"id": "r1", "name": "café " * 200}]}
RAW = json.dumps(BODY).encode()


def bomb(decoded_bytes: int, layers: int) -> bytes:
    """A JSON string of `decoded_bytes` spaces, gzipped `layers` times, built in small steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'{"rows": ["')]
    block = b" " * MiB
    for _ in range(decoded_bytes // MiB):
        parts.append(packer.compress(block))
    parts += [packer.compress(b'"]}'), packer.flush()]
    data = b"".join(parts)
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", lambda b: gzip.compress(b)),
    ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
    ("deflate", lambda b: zlib.compress(b)),  # zlib-wrapped, as the standard says
    ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw, as some hosts send it
    ("gzip, identity, deflate", lambda b: zlib.compress(gzip.compress(b))),
], ids=["gzip", "gzip in gzip", "deflate", "raw deflate", "deflate of gzip"])
def test_a_compressed_body_is_decoded_however_many_encodings_are_stacked(
    hostile: HostileServer, encoding: str, encode: object,
) -> None:
    hostile.route("/runs$", respond(encode(RAW), headers={"Content-Encoding": encoding}))  # type: ignore[operator]
    with client_for(hostile) as client:
        assert client.get("/runs") == BODY
    assert "gzip" in hostile.requests[0].headers["accept-encoding"]


def test_gzip_inside_gzip_beyond_the_cap_fails_on_its_decoded_size(hostile: HostileServer) -> None:
    hostile.route("/tool-calls$", respond(bomb(64 * MiB, layers=3), headers={"Content-Encoding": "gzip, gzip, gzip"}))
    with client_for(hostile, max_body_bytes=MiB) as client, pytest.raises(BodyTooLargeError) as caught:
        client.get("/runs/r1/tool-calls")
    assert "GET /runs/r1/tool-calls" in str(caught.value) and "1 MiB cap" in str(caught.value)
    assert client.stats.too_large == 1 and client.stats.requests == 1


def test_memory_stays_near_the_cap_on_a_stacked_gzip_bomb(hostile: HostileServer) -> None:
    hostile.route("/org$", json_body({"organization": {"id": "o"}}))
    hostile.route("/tool-calls$", respond(bomb(256 * MiB, layers=2), headers={"Content-Encoding": "gzip, gzip"}))
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, hostile.api_url, "amt_rss_probesecret", str(8 * MiB)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["outcome"] == "too large"
    assert figures["peak_delta"] < 8 * MiB * 1.3 + 40 * MiB, figures


@pytest.mark.parametrize("encoding, body, why", [
    ("br", b"\x1b\x00\x00", "'br', which the client did not ask for"),
    ("gzip", b"\x1f\x8b\x08\x00 not gzip at all", "broken compressed stream"),
    ("gzip", gzip.compress(RAW, mtime=0)[:40], "cut short"),
], ids=["br", "not gzip", "gzip cut short"])
def test_an_encoding_not_asked_for_or_broken_is_a_bad_body_naming_the_endpoint(
    hostile: HostileServer, encoding: str, body: bytes, why: str,
) -> None:
    hostile.route("/runs$", respond(body, headers={"Content-Encoding": encoding}))
    retry = RetryPolicy(max_attempts=2, backoff_base_s=0.01)
    with client_for(hostile, retry=retry) as client, pytest.raises(ContractError) as caught:
        client.get("/runs")
    message = str(caught.value)
    assert message.startswith("GET /runs answered a body whose encoding is broken") and why in message
    assert client.stats.bad_bodies == 2
