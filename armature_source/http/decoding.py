"""JSON bodies to Python values, with text repaired so that every destination takes it.

Parsing is orjson's (several times the speed of the standard library on record lists). Three
things a host may send are valid JSON, or nearly, yet some destinations refuse them as text:

- a `\\u0000` escape (Postgres text cannot hold NUL),
- a lone surrogate escape such as `\\ud800` with no partner (not a character at all; orjson
  refuses it, and Arrow, DuckDB and Postgres would too),
- bytes that are not UTF-8.

Each becomes U+FFFD and is counted. A valid surrogate pair (`\\ud83d\\ude00`) is one
character and stays; an escaped backslash (`\\\\u0000` is the six characters `\\u0000`) is
not an escape. Detection is one regex search over the raw bytes, so a clean body pays
little more than the parse. What orjson refuses but real writers emit (`NaN`, `Infinity`,
nesting beyond its depth) is read by `lenient_json` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from armature_source.http import lenient_json

REPLACEMENT = "\ufffd"
_REPLACEMENT_UTF8 = REPLACEMENT.encode()
_HIGH = rb"[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"[dD][c-fC-F][0-9a-fA-F]{2}"
# Led by the literal `\u`, so the regex engine skips ahead to candidates at memchr speed; a
# surrogate pair matches whole, so that its low half is never taken for a lone one. Whether
# the backslash really starts an escape (an even number of backslashes before it) is checked
# per candidate: `\\u0000` is an escaped backslash and the text `u0000`.
_ESCAPE = re.compile(rb"\\u(0000|" + _HIGH + rb"(?:\\u" + _LOW + rb")?|" + _LOW + rb")")
_BACKSLASH = 0x5C
_FFFD_ESCAPE = rb"\ufffd"


class NotJson(ValueError):
    """The body cannot be read as JSON; the message says why, in a few words."""


@dataclass(frozen=True)
class Decoded:
    """A parsed body and how many characters were replaced by U+FFFD to get it."""

    value: Any
    repairs: int = 0


def decode(raw: bytes | bytearray) -> Decoded:
    """Parse a JSON body, repairing NUL, lone surrogates and invalid UTF-8 on the way.

    Raises:
        NotJson: the body is not JSON (cut short, HTML, empty) or nests deeper than the
            parser allows.
    """
    repairs = 0
    data: bytes | bytearray = raw
    if _ESCAPE.search(data):
        data, repairs = _repair_escapes(data)
    try:
        return Decoded(orjson.loads(data), repairs)
    except orjson.JSONDecodeError as exc:
        first_error = exc
    text, replaced = _as_text(data)
    if replaced:
        try:
            return Decoded(orjson.loads(text), repairs + replaced)
        except orjson.JSONDecodeError as exc:
            first_error = exc
    try:  # NaN, Infinity, or nested beyond orjson's depth: what real JSON writers emit
        return Decoded(lenient_json.parse(text), repairs + replaced)
    except lenient_json.Unparsable:
        raise NotJson(_why(first_error, data)) from None


def _repair_escapes(data: bytes | bytearray) -> tuple[bytes, int]:
    """`\\u0000` and lone surrogate escapes become `\\ufffd`; surrogate pairs stay."""
    count = 0

    def fix(match: re.Match[bytes]) -> bytes:
        nonlocal count
        text = match.group(0)
        if _escaped_backslash(data, match.start()):
            if len(text) == 12:  # literal `\\` + `ud8xx`, then a real escape: a lone low
                count += 1
                return text[:6] + _FFFD_ESCAPE
            return text
        if len(text) == 12:  # a high surrogate with its low partner: one real character
            return text
        count += 1
        return _FFFD_ESCAPE

    return _ESCAPE.sub(fix, data), count


def _escaped_backslash(data: bytes | bytearray, at: int) -> bool:
    """Whether the backslash at `at` is the second half of an escaped backslash `\\\\`."""
    run = 0
    while at - run - 1 >= 0 and data[at - run - 1] == _BACKSLASH:
        run += 1
    return run % 2 == 1


def _as_text(data: bytes | bytearray) -> tuple[str, int]:
    """The body as text with invalid UTF-8 replaced, and how many characters that made."""
    try:
        return bytes(data).decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    text = bytes(data).decode("utf-8", errors="replace")
    return text, text.count(REPLACEMENT) - data.count(_REPLACEMENT_UTF8)


def _why(exc: orjson.JSONDecodeError, data: bytes | bytearray) -> str:
    if not data.strip():
        return "empty"
    if "depth" in str(exc) or "recursion" in str(exc):
        return "nested too deeply"
    if data.lstrip()[:1] == b"<":
        return "HTML or XML, not JSON"
    return f"cut short or malformed at byte {exc.pos}"
