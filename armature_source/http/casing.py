"""snake_case keys for every body, applied once where the body enters (the client).

Armature documents camelCase for `/org` and request bodies and snake_case for records; a real
host may send either anywhere. Open-ended objects (a tool call's `arguments`, a span's
`attributes`...) are the user's own JSON: their keys are kept exactly as sent.

Two keys of one object that snake_case alike (`startedAt` beside `started_at`) are never merged:
the snake_case one keeps the name and the other keeps its name as sent, so neither value is
lost and the table's conversion (`load.columns`) sees both and rejects the record's value.
Objects nested deeper than `MAX_DEPTH` are kept as sent: a host's 1,000-deep JSON must not
exhaust the interpreter's stack here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

OPEN_ENDED = frozenset({"arguments", "result", "attributes", "metadata", "details"})
MAX_DEPTH = 64

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def snake(key: str) -> str:
    """`workflowId` -> `workflow_id`; snake_case stays as it is. Cached: bodies repeat keys."""
    return _CAMEL.sub(r"_\1", key).lower()


def snake_keys(value: Any, depth: int = 0) -> Any:
    """Recursively snake_case the keys of a body, leaving open-ended objects untouched.

    The body is the parser's own: an object whose keys are all snake_case already (the
    usual case) is kept and only its nested values are visited; only an object with a key
    to rename is rebuilt.
    """
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        if not _all_snake(tuple(value)):
            return _renamed(value, depth)
        for key, item in value.items():
            if key not in OPEN_ENDED and isinstance(item, (dict, list)):
                value[key] = snake_keys(item, depth + 1)
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):
                value[i] = snake_keys(item, depth + 1)
    return value


@lru_cache(maxsize=1024)
def _all_snake(keys: tuple[str, ...]) -> bool:
    """Whether no key of an object changes when snake_cased (records share their keys)."""
    return all(snake(key) == key for key in keys)


def _renamed(value: dict[str, Any], depth: int) -> dict[str, Any]:
    """An object with its keys snake_cased, its nested values visited."""
    out: dict[str, Any] = {}
    converted: set[str] = set()  # names that came from another spelling
    for key, item in value.items():
        name = snake(key)
        if name in out:  # a collision: the one spelled as the name keeps it
            if name == key and name in converted:
                out[_original(value, name)] = out.pop(name)
                converted.discard(name)
            else:
                name = key
        elif name != key:
            converted.add(name)
        out[name] = item if name in OPEN_ENDED else snake_keys(item, depth + 1)
    return out


def _original(value: dict[str, Any], name: str) -> str:
    """The key of `value` that was snake_cased to `name` (the first one that was)."""
    return next(key for key in value if key != name and snake(key) == name)
