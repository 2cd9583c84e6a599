"""snake_case keys for every body, applied once where the body enters (the client).

Armature documents camelCase for `/org` and request bodies and snake_case for records; a real
host may send either anywhere. Open-ended objects (a tool call's `arguments`, a span's
`attributes`...) are the user's own JSON: their keys are kept exactly as sent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

OPEN_ENDED = frozenset({"arguments", "result", "attributes", "metadata", "details"})

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def snake(key: str) -> str:
    """`workflowId` -> `workflow_id`; snake_case stays as it is. Cached: bodies repeat keys."""
    return _CAMEL.sub(r"_\1", key).lower()


def snake_keys(value: Any) -> Any:
    """Recursively snake_case the keys of a body, leaving open-ended objects untouched."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = snake(key)
            out[name] = item if name in OPEN_ENDED else snake_keys(item)
        return out
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value
