"""The sessions resource: sessions that are new or grew since the last load, and their traces.

Fills `sessions` and `session_events`. The list has no paging: it is read once up to its
`limit`, and a cut inside the span this load needs is recorded as a coverage gap. A session's
trace is re-read whole whenever the session grew. The cursor (`session_book`) changes only
after the rows it speaks of were yielded (`job.after`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any, Iterator

from armature_source import endpoints as api
from armature_source import tables as t
from armature_source.errors import FeatureDisabledError
from armature_source.http.client import Failed, Missing
from armature_source.http.paging import pick_rows
from armature_source.load.coverage import children_unavailable, limit_cut, record_gap, window_gap
from armature_source.load.job import Job
from armature_source.load.state import SessionsState, resource_state
from armature_source.load.windows import Window, pick_window
from armature_source.resources.session_book import SessionBook
from armature_source.timestamps import iso, oldest
from armature_source.vocabulary import INSIGHT_RANGES

log = logging.getLogger("armature_source")


def sessions(job: Job) -> Iterator[Any]:
    """Sessions that are new or grew since the last load, and their traces (re-read whole)."""
    load = job.load
    if not load.insights_on("sessions") or job.out_of_time("before reading sessions"):
        return
    state: SessionsState = resource_state()
    now = load.now()
    book = SessionBook(state, now, load.horizon())
    window = job.window = pick_window(INSIGHT_RANGES, load.window_now(), book.mark, load.lookback)
    limit = load.config.session_limit
    log.info("sessions: %s, limit %d", window.describe(), limit)
    if window.gap:
        yield from record_gap(window_gap("sessions", window, now))
    try:
        body = job.client.get(api.SESSIONS.path(), {"range": window.range, "limit": limit})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    rows = pick_rows(body, *api.SESSIONS.envelope)
    job.counts.listed = len(rows)
    cut = _session_cut(job, window, rows, now)
    if cut:
        yield from record_gap(cut)
    wanted = [r for r in rows if book.wants(r, window.since)]
    job.counts.skipped = len(rows) - len(wanted)
    keyless = [r for r in wanted if not t.SESSIONS.keyed(r)]  # rejected by emit; no trace to ask for
    loaded, events, given_up = _read_traces(job, book, [r for r in wanted if t.SESSIONS.keyed(r)])
    yield from job.emit(t.SESSIONS, loaded + keyless)
    yield from job.emit(t.SESSION_EVENTS, events)
    if given_up:
        yield from record_gap(children_unavailable("sessions", given_up, load.children_retry, now))
    job.after(partial(book.commit, rows, loaded, load.lookback))
    log.info("sessions: done, %d listed, %d new or grown loaded with %d events, %d vanished, "
             "%d traces unreadable", len(rows), len(loaded), len(events), job.counts.vanished,
             len(book.held) + len(given_up), extra={"rows": job.counts.loaded, "listed": len(rows)})


def _read_traces(
    job: Job, book: SessionBook, wanted: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[str]]]:
    """The sessions whose traces were read and their events, and those given up.

    A trace the host cannot serve readably (Failed) is asked again by later loads, since the
    cursor stays behind it, for `children_retry_hours`; then it is a coverage gap.
    """
    traces = job.client.get_many(((api.SESSION_TRACE.path(r.get("id")), None) for r in wanted),
                                 failed_ok=True)
    loaded, events = [], []
    given_up: dict[str, list[str]] = {}
    for row, trace in zip(wanted, traces, strict=True):
        session_id = str(row.get("id"))
        if isinstance(trace, Missing):
            job.counts.vanished += 1
        elif isinstance(trace, Failed):
            if book.unreadable(row, job.load.children_retry):
                given_up[session_id] = [f"trace ({trace.reason})"]
        else:
            book.read(row)
            events += [{**e, "session_id": session_id} for e in pick_rows(trace, *api.SESSION_TRACE.envelope)]
            loaded.append(row)
    return loaded, events, given_up


def _session_cut(job: Job, window: Window, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """A coverage entry if the sessions list was cut inside the span this load needs."""
    if len(rows) < job.load.config.session_limit:
        return None
    earliest = oldest(r.get("last_event_at") for r in rows)
    if window.since is not None and earliest is not None and earliest < window.since:
        return None  # the cut fell before the span this load needs
    total = None
    if window.since is None:
        overview = job.client.get(api.OVERVIEW.path(), {"range": window.range})
        kpis = overview.get("kpis") if isinstance(overview, dict) else None
        total = kpis.get("sessions") if isinstance(kpis, dict) else None
    entry = limit_cut("sessions", window.range, now, len(rows), total)
    if window.since is not None and earliest is not None:
        entry["missing_from"], entry["missing_to"] = iso(window.since), iso(earliest)
        entry["message"] += f" Sessions last active {iso(window.since)} .. {iso(earliest)} were not read."
    return entry
