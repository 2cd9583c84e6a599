"""Which rolling range to ask for, and what the API cannot serve any more.

The API filters only by a rolling `range` back from the host's now (`24h`, `7d`, `30d`, and
`90d` for insights). An incremental load asks for the smallest range that still reaches back
to the last high-water mark minus a lookback; if even the widest range does not reach that
far, the span in between is a coverage gap: it is reported and recorded, never papered over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

RUN_RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
INSIGHT_RANGES: dict[str, timedelta] = {**RUN_RANGES, "90d": timedelta(days=90)}
# Ask a little inside the window: the host's now moves on while we page.
EDGE_MARGIN = timedelta(minutes=5)


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


def parse_ts(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (`Z`, any offset, milli- or microseconds) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """UTC ISO text for state (JSON-safe)."""
    return value.astimezone(timezone.utc).isoformat() if value else None


def gap_record(resource: str, window: Window, now: datetime) -> dict[str, Any]:
    """A coverage entry for a window that could not reach back far enough."""
    assert window.gap is not None
    start, end = window.gap
    return {
        "resource": resource,
        "kind": "window_gap",
        "range": window.range,
        "detected_at": iso(now),
        "missing_from": iso(start),
        "missing_to": iso(end),
        "missing_count": None,
        "message": (
            f"{resource}: the last load reached {iso(start)}, but the API serves only "
            f"{window.range} back from now ({iso(end)}); anything between was not readable."
        ),
    }


def cut_record(resource: str, range_: str, now: datetime, listed: int, total: int | None) -> dict[str, Any]:
    """A coverage entry for a list that came back cut at its limit."""
    missing = None if total is None else max(total - listed, 0)
    beyond = f"{missing} more exist in that range" if missing is not None else "more may exist"
    return {
        "resource": resource,
        "kind": "limit_cut",
        "range": range_,
        "detected_at": iso(now),
        "missing_from": None,
        "missing_to": None,
        "missing_count": missing,
        "message": (
            f"{resource}: the {range_} list came back cut at its limit of {listed}; {beyond} "
            "and cannot be read for that window (the API has no paging for it)."
        ),
    }


OPEN_STATUSES = frozenset({"pending", "running", "queued"})


def is_terminal(status: Any) -> bool:
    """A run status that never changes again (unknown statuses count as terminal)."""
    return status is not None and str(status) not in OPEN_STATUSES


class RunBook:
    """The runs cursor, kept in dlt's resource state.

    - `mark`: the newest `started_at` seen; the next load reads back to `mark - lookback`.
    - `open`: runs seen pending/running, `{id: [started_at, status]}`, re-read until terminal
      even after they leave the window.
    - `done`: terminal runs inside the overlap the next load re-lists, `{id: started_at}`,
      so their children are never fetched twice.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.mark = parse_ts(state.get("mark"))
        self.open: dict[str, list[Any]] = state.setdefault("open", {})
        self.done: dict[str, str] = state.setdefault("done", {})
        self.finished_now = 0
        self.vanished_now = 0
        self._newest = self.mark

    @classmethod
    def load(cls, state: dict[str, Any]) -> "RunBook":
        return cls(state)

    def wants(self, row: dict[str, Any], since: datetime | None) -> bool:
        """Whether a listed run needs handling: inside the span read, or one still open."""
        run_id = row["id"]
        started = parse_ts(row.get("started_at"))
        if started and (self._newest is None or started > self._newest):
            self._newest = started
        if run_id in self.done:
            return False
        return run_id in self.open or since is None or (started is not None and started >= since)

    def note_open(self, row: dict[str, Any]) -> bool:
        """Remember an open run; True if it is new or its status changed."""
        entry = [row.get("started_at"), row.get("status")]
        if self.open.get(row["id"]) == entry:
            return False
        self.open[row["id"]] = entry
        return True

    def finish(self, row: dict[str, Any]) -> None:
        self.open.pop(row["id"], None)
        self.done[row["id"]] = str(row.get("started_at"))
        self.finished_now += 1

    def vanish(self, run_id: str) -> None:
        """A run answered 404 between list and detail: forget it, count it."""
        self.open.pop(run_id, None)
        self.vanished_now += 1

    def save(self, now: datetime, lookback: timedelta) -> None:
        """Advance the mark and drop `done` entries the next load will not list again."""
        if self._newest is not None:
            self.state["mark"] = iso(self._newest)
            horizon = self._newest - lookback - EDGE_MARGIN
            for run_id in [k for k, v in self.done.items() if not _at_or_after(v, horizon)]:
                del self.done[run_id]


def _at_or_after(value: Any, instant: datetime) -> bool:
    stamp = parse_ts(value) if value not in (None, "None") else None
    return stamp is not None and stamp >= instant
