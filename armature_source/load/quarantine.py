"""Records that could not be loaded as served, kept whole in `rejected_records`.

A value its column cannot hold became null in its row; a record without its key was not
loaded at all. Either way the record as served goes to `rejected_records`, once: a record
served again unchanged, with the same problem, is not rejected twice (the resource's state
remembers a digest of each rejection for as long as the host may serve the record again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from armature_source.http.lenient_json import RAW, UNREADABLE
from armature_source.load.columns import Converted
from armature_source.load.state import QuarantineState
from armature_source.tables import Table
from armature_source.timestamps import iso, try_ts

log = logging.getLogger("armature_source")

RAW_LIMIT = 64 * 1024
NO_KEY = "no key"
# the host serves runs for 30 days and sessions for 90: remember rejections a little longer
REMEMBERED = timedelta(days=100)


class Quarantine:
    """The rejections of one resource in one load, staged until delivered."""

    def __init__(self, state: QuarantineState, now: datetime) -> None:
        self.seen: dict[str, str] = state.setdefault("rejected", {})
        self.now = now
        self.pending: dict[str, str] = {}
        self.rejected_now = 0

    def rows(self, table: Table, given: Sequence[Mapping[str, Any]], converted: Converted) -> list[dict[str, Any]]:
        """`rejected_records` rows for the problems of one conversion (new ones only)."""
        out = []
        dropped = set(converted.dropped)
        for i in converted.dropped:
            why = converted.notes.get(i)
            out += self._row(table, given[i], "; ".join(why) if why else NO_KEY, [], keyed=False)
        for i in sorted((set(converted.problems) | set(converted.notes)) - dropped):
            problems = converted.problems.get(i, [])
            nulled = [p.split(":", 1)[0] for p in problems]
            out += self._row(table, given[i], "; ".join(problems + converted.notes.get(i, [])), nulled)
        if out:
            log.warning("%s: %d records could not be loaded as served (%s); they are in "
                        "rejected_records", table.name, len(out), out[0]["reason"][:120])
        return out

    def _row(self, table: Table, record: Mapping[str, Any], reason: str, nulled: list[str],
             keyed: bool = True) -> list[dict[str, Any]]:
        raw = _raw(record)
        digest = hashlib.sha256(f"{table.name}\n{reason}\n{raw}".encode("utf-8", "replace")).hexdigest()[:32]
        if digest in self.seen or digest in self.pending:
            return []
        self.pending[digest] = iso(self.now) or ""
        self.rejected_now += 1
        if not keyed:
            key = "sha256:" + hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()
        else:
            key = json.dumps({k: record.get(k) for k in table.key}, sort_keys=True, default=str)
        return [{
            "table_name": table.name, "record_key": key, "reason": reason,
            "columns_nulled": nulled, "detected_at": iso(self.now),
            "raw": raw[:RAW_LIMIT], "raw_truncated": len(raw) > RAW_LIMIT,
        }]

    def commit(self) -> None:
        """Remember the staged rejections (they were delivered) and forget old ones."""
        self.seen.update(self.pending)
        self.pending.clear()
        horizon = self.now - REMEMBERED
        for digest in [d for d, when in self.seen.items() if (try_ts(when) or self.now) < horizon]:
            del self.seen[digest]


def _raw(record: Mapping[str, Any]) -> str:
    """The record as served, as JSON text; a record that could not be parsed keeps its raw text,
    one nested too deeply to write back says so."""
    if UNREADABLE in record:
        return str(record.get(RAW, ""))
    try:
        return json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    except (RecursionError, ValueError):
        return json.dumps({"unwritable": "nested too deeply to write back as JSON",
                           "keys": sorted(str(k) for k in record)})
