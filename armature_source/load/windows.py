"""Which rolling range to ask for, and what the API cannot serve any more.

The API filters only by a rolling `range` back from the host's now (`24h`, `7d`, `30d`, and
`90d` for insights). An incremental load asks for the smallest range that still reaches back
to the last high-water mark minus a lookback; if even the widest range does not reach that
far, the span in between is a coverage gap: it is reported and recorded, never papered over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from armature_source.timestamps import iso, try_ts

log = logging.getLogger("armature_source")

# Ask a little inside the window: the host's now moves on while we page.
EDGE_MARGIN = timedelta(minutes=5)
# How far past the host's now a record's time may lie and still move a cursor.
FUTURE_TOLERANCE = timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    """The range to request and the earliest instant this load needs (None = all it can)."""

    range: str
    since: datetime | None
    gap: tuple[datetime, datetime] | None = None

    def describe(self) -> str:
        since = self.since.isoformat() if self.since else "the start of the window"
        return f"range={self.range}, since {since}"


def pick_window(
    ranges: dict[str, timedelta], now: datetime, mark: datetime | None, lookback: timedelta
) -> Window:
    """The smallest range covering `mark - lookback`, or the widest one and the gap it leaves."""
    widest = max(ranges, key=lambda r: ranges[r])
    if mark is None:
        return Window(widest, None)
    since = mark - lookback
    for name, span in sorted(ranges.items(), key=lambda item: item[1]):
        if now - span + EDGE_MARGIN <= since:
            return Window(name, since)
    oldest_reachable = now - ranges[widest]
    return Window(widest, since, gap=(since, oldest_reachable))


def believed(mark: Any, horizon: datetime, resource: str) -> datetime | None:
    """A cursor as state keeps it, unless it is beyond the newest plausible instant: a load
    with a wrong clock moved it there, and from there no later record would ever be read.
    Then the window is read again from its start (merges keep it exact)."""
    stamp = try_ts(mark)
    if stamp is not None and stamp > horizon:
        log.warning("%s: the cursor (%s) is beyond the host's now plus %s (%s), as a load with a "
                    "wrong clock left it; this load reads the whole window again.", resource,
                    iso(stamp), FUTURE_TOLERANCE, iso(horizon))
        return None
    return stamp
