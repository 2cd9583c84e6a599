"""A token bucket per API key, on the real clock: what `--rate-limit-rps` puts in front of the API.

Each key's bucket holds `burst` tokens and refills at `rps` tokens a second; a request takes
one. An empty bucket answers `429 rate_limited` with `Retry-After` set to the seconds until a
token is there, rounded up, so a client that waits that long is served. `/openapi` and the
`/_sim` controls are not limited. The counters say how much was served and refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from armature_sim.vocabulary import API_KEYS

LIMITED = "armature_sim.rate_limited"  # set in the ASGI scope of a request the bucket refused


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    allowed: int = 0
    limited: int = 0


class RateLimiter:
    """The buckets of every key that has called, all with the same rate and size."""

    def __init__(self, rps: float, burst: int = 0, now: Callable[[], float] = time.monotonic) -> None:
        self.rps = rps
        self.burst = burst or max(1, math.ceil(rps))  # one second's worth unless told
        self._now = now
        self._buckets: dict[str, _Bucket] = {}

    @property
    def active(self) -> bool:
        """Whether there is a limit at all."""
        return self.rps > 0

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when there was one, else the seconds until there is."""
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rps)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.allowed += 1
            return 0.0
        bucket.limited += 1
        return (1 - bucket.tokens) / self.rps

    @staticmethod
    def retry_after(wait: float) -> str:
        """`Retry-After` for a wait: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(wait)))

    def describe(self) -> dict[str, Any]:
        """The limit and what it let through and refused, in all and per key id."""
        keys = {API_KEYS[key][0] if key in API_KEYS else key: b for key, b in self._buckets.items()}
        return {
            "rps": self.rps,
            "burst": self.burst if self.active else 0,
            "allowed": sum(b.allowed for b in keys.values()),
            "limited": sum(b.limited for b in keys.values()),
            "keys": {key_id: {"allowed": b.allowed, "limited": b.limited} for key_id, b in sorted(keys.items())},
        }
