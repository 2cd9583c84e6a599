"""Decoding: whatever text a host escapes, every string that comes out is real text that every
destination stores, and nothing but NUL and lone surrogates is changed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armature_source.http.decoding import NotJson, decode

PIECES = ["a", "é", "😀", "\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00",
          "\\", "u0000", "ud800", '"', "\n"]


def model(text: str) -> tuple[str, int]:
    """What decoding must give for `text` sent as JSON escapes, and how many repairs."""
    out, repairs, i = [], 0, 0
    while i < len(text):
        char = text[i]
        pair = i + 1 < len(text) and "\ud800" <= char <= "\udbff" and "\udc00" <= text[i + 1] <= "\udfff"
        if pair:
            out.append((char + text[i + 1]).encode("utf-16", "surrogatepass").decode("utf-16"))
            i += 2
            continue
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            out.append("\ufffd")
            repairs += 1
        else:
            out.append(char)
        i += 1
    return "".join(out), repairs


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), min_size=1, max_size=4))
def test_escaped_nul_and_lone_surrogates_become_fffd_and_nothing_else_changes(texts: list[str]) -> None:
    raw = json.dumps({"rows": texts}).encode()  # ensure_ascii: every odd character escaped
    decoded = decode(raw)
    expected = [model(t) for t in texts]
    assert decoded.value == {"rows": [e[0] for e in expected]}
    assert decoded.repairs == sum(e[1] for e in expected)
    for text in decoded.value["rows"]:
        text.encode("utf-8")  # no surrogate is left


def test_raw_utf8_is_kept_and_invalid_bytes_become_fffd() -> None:
    raw = '{"a": "naïve 😀", "b": "'.encode() + b"\xff\xfe" + b'", "c": "\xef\xbf\xbd"}'
    decoded = decode(raw)
    assert decoded.value == {"a": "naïve 😀", "b": "\ufffd\ufffd", "c": "\ufffd"}
    assert decoded.repairs == 2, "a U+FFFD the host sent is not counted as a repair"


@pytest.mark.parametrize("raw, why", [
    (b"", "empty"), (b"   ", "empty"), (b"<html><body>502</body></html>", "HTML"),
    (b'{"rows": [1, 2', "cut short"),
    (b'{"a": "\x00"}', "malformed"),
])
def test_what_is_not_json_says_why(raw: bytes, why: str) -> None:
    with pytest.raises(NotJson, match=why):
        decode(raw)


def test_a_body_nested_deeper_than_the_parsers_is_read_not_refused() -> None:
    value = decode(b"[" * 2000 + b"]" * 2000).value
    assert isinstance(value, list) and len(value) == 1, "one member, kept for its list to set aside"
