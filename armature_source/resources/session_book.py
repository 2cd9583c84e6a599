"""The sessions cursor, kept in dlt's resource state, and changed only by what was delivered.

    mark     the newest plausible `last_event_at` read, held behind a session whose trace must
             be read again; the next load lists back to `mark - lookback`. Never the host's
             `Date`: a host clock that jumps ahead for one load must not hide sessions that
             grew meanwhile.
    known    sessions loaded, `{id: {last_event_at, event_count}}`, so one that did not grow
             is not read again (versions before 0.2 kept `[last_event_at, event_count]` lists:
             read as such and rewritten); forgotten once idle behind the mark
    unread   sessions whose trace could not be read, `{id: first failure}`, asked again on
             later loads for `children_retry_hours`, then given up as a coverage gap

The resource stages a load's changes and `commit`s them only after its rows were yielded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from armature_source.load.state import SeenSession, SessionsState
from armature_source.load.windows import FUTURE_TOLERANCE, believed
from armature_source.timestamps import at_or_after, iso, may_be_in_span, try_ts

log = logging.getLogger("armature_source")

# A session still growing may gain events up to this long after its last one.
SESSION_IDLE = timedelta(minutes=30)
# how far behind an unreadable session's last event the cursor stays, so it is listed again
SESSION_HOLD_MARGIN = timedelta(seconds=1)


class SessionBook:
    """The sessions cursor: reads the state once, writes it only through `commit`."""

    def __init__(self, state: SessionsState, now: datetime, horizon: datetime | None = None) -> None:
        self.state = state
        self.now = now
        self.horizon = horizon or now + FUTURE_TOLERANCE
        self.mark = believed(state.get("mark"), self.horizon, "sessions")
        self.known = state.setdefault("known", {})
        for session_id, entry in list(self.known.items()):
            if isinstance(entry, list):  # written by a version before 0.2
                self.known[session_id] = SeenSession(last_event_at=entry[0], event_count=entry[1])
        self.unread = state.setdefault("unread", {})
        self.held: list[datetime] = []
        self._read: set[str] = set()
        self._failed: dict[str, str] = {}
        self._given_up: set[str] = set()

    def wants(self, row: dict[str, Any], since: datetime | None) -> bool:
        """Whether a listed session needs its trace read: inside the span, new or grown."""
        if not may_be_in_span(row.get("last_event_at"), since):
            return False
        return self.known.get(str(row.get("id"))) != _seen(row)

    def unreadable(self, row: dict[str, Any], retry: timedelta) -> bool:
        """Note that a session's trace could not be read; True when the wait is over (give
        up), else the cursor stays behind the session so that it is listed again."""
        session_id = str(row.get("id"))
        first = try_ts(self.unread.get(session_id)) or self.now
        if self.now - first >= retry:
            self._given_up.add(session_id)
            return True
        self._failed.setdefault(session_id, iso(first) or "")
        stamp = try_ts(row.get("last_event_at"))
        if stamp is not None:
            self.held.append(stamp)
        return False

    def read(self, row: dict[str, Any]) -> None:
        """Note that a session's trace was read (its rows go out with this batch)."""
        self._read.add(str(row.get("id")))

    def commit(self, listed: list[dict[str, Any]], loaded: list[dict[str, Any]], lookback: timedelta) -> None:
        """Apply a delivered load: the sessions read, the unreadable ones, the mark, pruning."""
        for row in loaded:
            self.known[str(row.get("id"))] = _seen(row)
        for session_id in self._read | self._given_up:
            self.unread.pop(session_id, None)
        self.unread.update(self._failed)
        newest = _newest_plausible(listed, self.horizon)
        if newest is not None and self.held:
            newest = min(newest, min(self.held) - SESSION_HOLD_MARGIN)
        if newest is not None and (self.mark is None or newest > self.mark):
            self.mark = newest
        if self.mark is not None:
            self.state["mark"] = iso(self.mark) or ""
        else:
            self.state.pop("mark", None)
        horizon = (self.mark or self.now) - lookback - SESSION_IDLE
        for session_id in [k for k, v in self.known.items() if not at_or_after(v["last_event_at"], horizon)]:
            del self.known[session_id]


def _seen(row: dict[str, Any]) -> SeenSession:
    return SeenSession(last_event_at=row.get("last_event_at"), event_count=row.get("event_count"))


def _newest_plausible(rows: list[dict[str, Any]], horizon: datetime) -> datetime | None:
    """The newest `last_event_at` listed that is not beyond the newest plausible instant."""
    stamps = [s for s in (try_ts(r.get("last_event_at")) for r in rows) if s is not None]
    plausible = [s for s in stamps if s <= horizon]
    if len(plausible) < len(stamps):
        log.warning("sessions: %d sessions have last_event_at beyond the host's now plus %s "
                    "(%s); they load, but the sessions cursor does not move by them",
                    len(stamps) - len(plausible), FUTURE_TOLERANCE, iso(horizon))
    return max(plausible, default=None)
