"""Rows that did not change since the last load are not written again.

A resource keeps a digest of what it last loaded under a key in its dlt state; a row whose
digest matches is dropped before it reaches a table. New digests are staged and written to
the state only by `commit`, after the rows they describe were yielded, so a load closed early
never remembers rows it did not deliver.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from armature_source.load.state import DigestsState


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class Digests:
    """The digests of one resource's last delivered rows."""

    def __init__(self, state: DigestsState) -> None:
        self.known: dict[str, str] = state.setdefault("digests", {})
        self.pending: dict[str, str] = {}

    def changed(self, key: str, value: Any) -> bool:
        """Whether `value` differs from what was last delivered under `key` (stages it)."""
        digest = _digest(value)
        if self.known.get(key) == digest:
            return False
        self.pending[key] = digest
        return True

    def fresh(self, rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
        """The rows whose content differs from the last delivered load, by their key."""
        return [row for row in rows if self.changed(f"{key}:{row.get(key)}", row)]

    def commit(self) -> None:
        """Remember the staged digests: their rows were delivered."""
        self.known.update(self.pending)
        self.pending.clear()
