"""JSON that real writers emit but orjson refuses: `NaN` and `Infinity`, and nesting deeper than
orjson's limit (1,024).

`parse` is the fallback `decoding.decode` takes only when orjson refused a body. Python's own
`json` reads `NaN`, `Infinity` and `-Infinity` (its `json.dumps` writes them). A body nested too
deep for either parser is taken apart instead: its top-level container is split into its
members by a small scanner that follows strings and brackets, each member is parsed on its own
(a list of records one record at a time), and a member that still cannot be read becomes an
`UNREADABLE` marker that keeps its raw text. So one bad record is quarantined by the table's
conversion, and the rest of the list loads.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import orjson

UNREADABLE = "_unreadable"  # a member that could not be parsed: {UNREADABLE: why, "_raw": text}
RAW = "_raw"
RAW_KEPT = 64 * 1024
_SPLIT_LEVELS = 2  # a body's members, and the records of a list among them


class Unparsable(ValueError):
    """Not JSON, even leniently."""


def parse(text: str, levels: int = _SPLIT_LEVELS) -> Any:
    """The value of `text`, read leniently; raises Unparsable when it is not JSON at all."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    except ValueError as exc:
        raise Unparsable(str(exc)) from None
    if levels <= 0:
        raise Unparsable("nested too deeply")
    stripped = text.strip()
    if stripped[:1] == "[":
        return [_member(part, levels - 1) for part in _members(stripped)]
    if stripped[:1] == "{":
        out = {}
        for part in _members(stripped):
            name, value = _key_and_value(part)
            out[name] = _member(value, levels - 1)
        return out
    raise Unparsable("nested too deeply")


def unreadable(raw: str, why: str) -> dict[str, Any]:
    return {UNREADABLE: why, RAW: raw[:RAW_KEPT]}


def _member(text: str, levels: int) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return parse(text, levels)
    except Unparsable as exc:
        return unreadable(text.strip(), str(exc))


def _members(text: str) -> Iterator[str]:
    """The top-level members of a JSON array or object, as text (an object's as `"k": v`)."""
    depth, start, in_string, escaped = 0, 1, False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                if text[start:i].strip():
                    yield text[start:i].strip()
                return
        elif char == "," and depth == 1:
            yield text[start:i].strip()
            start = i + 1
    raise Unparsable("cut short")


def _key_and_value(member: str) -> tuple[str, str]:
    """An object member's key (read back from its JSON string) and its value's text."""
    end, escaped = 1, False
    while end < len(member):
        char = member[end]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            break
        end += 1
    value = member[end + 1:].lstrip()
    if not member.startswith('"') or not value.startswith(":"):
        raise Unparsable("an object member without a key")
    return str(json.loads(member[: end + 1])), value[1:]
