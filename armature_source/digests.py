"""Rows that did not change since the last load are not written again.

A resource keeps a digest of what it last loaded under a key in its dlt state; a row whose
digest matches is dropped before it reaches a table.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def unchanged(state: dict[str, Any], key: str, rows: Any) -> bool:
    """Whether `rows` equal what this resource last loaded under `key` (remembers them)."""
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    digests = state.setdefault("digests", {})
    if digests.get(key) == digest:
        return True
    digests[key] = digest
    return False


def changed_rows(state: dict[str, Any], rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """The rows whose content differs from the last load, by their key."""
    return [row for row in rows if not unchanged(state, f"{key}:{row.get(key)}", row)]
