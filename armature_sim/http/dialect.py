"""How a host puts records on the wire: the two dialects the simulator speaks.

Dialect `armature` is CONTRACT.md section 1: snake_case, each list under its own key (`rows`,
`sessions`, `events`), UTC timestamps with `Z` and milliseconds. Dialect `alt` is the same
data the way another host might serve it: camelCase keys (open-ended JSON objects left as
they are), every list array under `data`, no `total` on `/runs`, `pageSize` capped at 50,
and timestamps with a `+01:00` offset and microseconds.

The same `Dialect` encodes the answers here and shapes the OpenAPI document's schemas in
`armature_sim.schemas`, so the two cannot disagree about a dialect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from armature_sim.vocabulary import ALT_PAGE_SIZE_CAP, OPAQUE_KEYS, PAGE_SIZE


@lru_cache(maxsize=1024)
def camel(key: str) -> str:
    """snake_case to camelCase (a name without underscores stays as it is)."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camelize(value: Any) -> Any:
    """Rename keys to camelCase all the way down, except inside open-ended objects."""
    if isinstance(value, dict):
        return {camel(k): v if k in OPAQUE_KEYS else camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(item) for item in value]
    return value


@dataclass(frozen=True)
class Dialect:
    """One host's wire format."""

    name: str
    camel_case: bool
    list_key: str | None  # None: each list keeps its own array key (`rows`, `sessions`, ...)
    unserved: tuple[str, ...]  # list envelope members this host leaves out
    page_cap: int
    zone: timezone | None  # None: UTC written with `Z` and milliseconds

    def key(self, name: str) -> str:
        """A record member's name on this host's wire."""
        return camel(name) if self.camel_case else name

    def array_key(self, name: str) -> str:
        """The key a list envelope's array goes under."""
        return self.list_key or name

    def stamp(self, moment: datetime) -> str:
        """Render a timestamp: `...09:15:02.481Z`, or in alt `...10:15:02.481000+01:00`."""
        if self.zone is not None:
            return moment.astimezone(self.zone).isoformat(timespec="microseconds")
        # world times are UTC: swap the "+00:00" isoformat ends with for "Z"
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"

    def listing(self, key: str, rows: list[Any], **extra: Any) -> dict[str, Any]:
        """A list envelope: the array under `key` (alt: `data`) and the paging members served."""
        body: dict[str, Any] = {self.array_key(key): rows}
        body.update((name, value) for name, value in extra.items() if name not in self.unserved)
        return body

    def encode(self, body: Any) -> bytes:
        """Serialize a body; datetimes are the only values json cannot take as they are."""
        return self.text(body).encode()

    def text(self, body: Any) -> str:
        """The JSON text of a body, before it becomes UTF-8 (poison splices into it)."""
        if self.camel_case:
            body = camelize(body)
        return json.dumps(body, default=self._default, separators=(",", ":"), ensure_ascii=False)

    def _default(self, value: Any) -> str:
        if isinstance(value, datetime):
            return self.stamp(value)
        raise TypeError(f"cannot serialize {type(value).__name__}")


ARMATURE = Dialect("armature", camel_case=False, list_key=None, unserved=(), page_cap=PAGE_SIZE.cap, zone=None)
ALT = Dialect(
    "alt", camel_case=True, list_key="data", unserved=("total",), page_cap=ALT_PAGE_SIZE_CAP,
    zone=timezone(timedelta(hours=1)),
)
DIALECTS: dict[str, Dialect] = {dialect.name: dialect for dialect in (ARMATURE, ALT)}
