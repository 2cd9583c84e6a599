"""What a request gives back besides a body, and how requests are counted.

Resources import these from `armature_source.client`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import TypedDict, Unpack


class Amounts(TypedDict, total=False):
    """What `RequestStats.add` adds to, by counter: a misspelt name fails type checking."""

    requests: int
    retries: int
    rate_limited: int
    timeouts: int
    server_errors: int
    bad_bodies: int
    too_large: int
    repairs: int


@dataclass
class RequestStats:
    """What the client did, for the end-of-resource log lines, the load ledger and `status`.

    `requests` counts attempts sent; `retries` the attempts that were tried again;
    `repairs` the characters replaced by U+FFFD so that a destination can store the text.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    server_errors: int = 0
    bad_bodies: int = 0
    too_large: int = 0
    repairs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: Unpack[Amounts]) -> None:
        """Add to the named counters."""
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        """Every counter, read at one moment."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


@dataclass(frozen=True)
class Missing:
    """Stands in for a body that answered 404: the thing is gone, or has no such child."""

    path: str
    code: str | None


@dataclass(frozen=True)
class Failed:
    """Stands in for a body that could not be had: it could not be read, or passed the cap."""

    path: str
    reason: str
