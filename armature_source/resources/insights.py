"""The MCP usage insights resources: overview, topics, failed searches, sessions.

    insights_overview  insights_overview
    topics             topics, topic_snapshots
    failed_searches    failed_searches, failed_search_snapshots
    sessions           sessions, session_events

Insights lists have no paging: each range is read once up to its `limit`, and what lies
beyond is recorded as a coverage gap. An organization without MCP Analytics (403
`feature_disabled`) skips all four with one warning.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterator

import dlt

from armature_source import tables as t
from armature_source.http.client import Failed, Missing
from armature_source.load.job import Job
from armature_source.load.coverage import children_unavailable, limit_cut, record_gap, window_gap
from armature_source.load.digests import Digests
from armature_source.errors import ContractError, FeatureDisabledError
from armature_source.http.paging import pick_rows
from armature_source.timestamps import iso, oldest, try_ts
from armature_source.vocabulary import INSIGHT_RANGES
from armature_source.load.windows import FUTURE_TOLERANCE, Window, pick_window

log = logging.getLogger("armature_source")
# A session still growing may gain events up to this long after its last one.
SESSION_IDLE = timedelta(minutes=30)
# how far behind an unreadable session's last event the cursor stays, so it is listed again
SESSION_HOLD_MARGIN = timedelta(seconds=1)


def insights_overview(job: Job) -> Iterator[Any]:
    """GET /insights/overview for each range: one row per day and range."""
    load = job.load
    if not load.insights_on("insights_overview") or job.out_of_time("before the overview"):
        return
    digests = Digests(dlt.current.resource_state())
    today = load.now().date().isoformat()
    rows = []
    try:
        for range_ in load.insight_ranges:
            body = job.client.get("/insights/overview", {"range": range_})
            if not isinstance(body, dict):
                raise ContractError(f"GET /insights/overview answered {type(body).__name__}; "
                                    "expected a JSON object.")
            kpis = body.pop("kpis", None)
            rows.append({**body, **(kpis if isinstance(kpis, dict) else {}), "range": range_,
                         "snapshot_date": today})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    # the day is part of what is compared, so a new day writes its snapshot even if unchanged
    fresh = [r for r in rows if digests.changed(f"overview:{r['range']}", r)]
    job.counts.listed, job.counts.skipped = len(rows), len(rows) - len(fresh)
    log.info("insights_overview: %d ranges, %d new or changed", len(rows), len(fresh))
    yield from job.emit(t.INSIGHTS_OVERVIEW, fresh)
    digests.commit()


def topics(job: Job) -> Iterator[Any]:
    """Topics: the current record (counts over the widest range) and a snapshot per range."""
    yield from _ranked_lists(
        job, "topics", "/insights/topics", t.TOPICS, t.TOPIC_SNAPSHOTS, "topic_id",
        {"sort": "volume"},
    )


def failed_searches(job: Job) -> Iterator[Any]:
    """Failed-search clusters: the current record and a snapshot per range."""
    yield from _ranked_lists(
        job, "failed_searches", "/insights/searches", t.FAILED_SEARCHES,
        t.FAILED_SEARCH_SNAPSHOTS, "failed_search_id", {},
    )


def _ranked_lists(
    job: Job, resource: str, path: str, current: t.Table, snapshots: t.Table,
    id_column: str, params: dict[str, Any],
) -> Iterator[Any]:
    load = job.load
    if not load.insights_on(resource):
        return
    digests = Digests(dlt.current.resource_state())
    now = load.now()
    today = now.date().isoformat()
    latest: dict[str, dict[str, Any]] = {}
    try:
        for range_ in load.insight_ranges:
            if job.out_of_time(f"before the {range_} list"):
                break
            query = {**params, "range": range_, "limit": load.list_limit}
            rows = pick_rows(job.client.get(path, query), resource, "clusters")
            job.counts.listed += len(rows)
            if len(rows) >= load.list_limit:
                yield from record_gap(limit_cut(resource, range_, now, len(rows), None))
            snaps = [
                {**{c: r.get(c) for c in snapshots.columns}, id_column: r.get("id"),
                 "range": range_, "snapshot_date": today}
                for r in rows
            ]
            if snaps and digests.changed(f"snapshots:{range_}", snaps):
                yield from job.emit(snapshots, snaps)
                digests.commit()
            # ranges run narrow to wide: the widest range's counts win in the current record
            latest.update({str(r.get("id")): {**r, "counts_range": range_} for r in rows})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    fresh = digests.fresh(list(latest.values()))
    job.counts.skipped += len(latest) - len(fresh)
    log.info("%s: %d current, %d new or changed", resource, len(latest), len(fresh))
    yield from job.emit(current, fresh)
    digests.commit()


def sessions(job: Job) -> Iterator[Any]:
    """Sessions that are new or grew since the last load, and their traces (re-read whole).

    The cursor is the newest `last_event_at` delivered (never one beyond the host's now plus
    the future tolerance), not the host's `Date`: a host clock that jumps ahead for one load
    must not make the next load skip sessions that grew meanwhile.
    """
    load = job.load
    if not load.insights_on("sessions") or job.out_of_time("before reading sessions"):
        return
    state = dlt.current.resource_state()
    known: dict[str, list[Any]] = state.setdefault("known", {})
    now = load.now()
    window = job.window = pick_window(INSIGHT_RANGES, load.window_now(), try_ts(state.get("mark")), load.lookback)
    log.info("sessions: %s, limit %d", window.describe(), load.session_limit)
    if window.gap:
        yield from record_gap(window_gap("sessions", window, now))
    try:
        body = job.client.get("/insights/sessions", {"range": window.range, "limit": load.session_limit})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    rows = pick_rows(body, "sessions")
    job.counts.listed = len(rows)
    cut = _session_cut(job, window, rows, now)
    if cut:
        yield from record_gap(cut)
    wanted = [
        r for r in rows
        if (window.since is None or _after(r.get("last_event_at"), window.since))
        and known.get(str(r.get("id"))) != [r.get("last_event_at"), r.get("event_count")]
    ]
    job.counts.skipped = len(rows) - len(wanted)
    loaded, events, held, given_up = _read_traces(job, wanted, state, now)
    yield from job.emit(t.SESSIONS, loaded)
    yield from job.emit(t.SESSION_EVENTS, events)
    if given_up:
        yield from record_gap(children_unavailable("sessions", given_up, load.children_retry, now))
    for row in loaded:
        known[str(row.get("id"))] = [row.get("last_event_at"), row.get("event_count")]
    _advance_mark(state, rows, held, now)
    horizon = (try_ts(state.get("mark")) or now) - load.lookback - SESSION_IDLE
    for session_id in [k for k, v in known.items() if not _after(v[0], horizon)]:
        del known[session_id]
    log.info("sessions: done, %d listed, %d new or grown loaded with %d events, %d vanished, "
             "%d traces unreadable", len(rows), len(loaded), len(events), job.counts.vanished,
             len(held) + len(given_up))


def _read_traces(
    job: Job, wanted: list[dict[str, Any]], state: dict[str, Any], now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[datetime], dict[str, list[str]]]:
    """The sessions whose traces were read and their events; for the unreadable ones, the
    `last_event_at` the cursor must stay behind, and those given up after the retry time.

    A trace the host cannot serve readably (Failed) is asked again by later loads, since the
    cursor stays behind it, for `children_retry_hours`; then it is a coverage gap.
    """
    unread: dict[str, str] = state.setdefault("unread", {})
    traces = job.client.get_many(
        ((job.client.path("insights", "sessions", r.get("id"), "trace"), None) for r in wanted),
        failed_ok=True,
    )
    loaded, events, held = [], [], []
    given_up: dict[str, list[str]] = {}
    for row, trace in zip(wanted, traces):
        session_id = str(row.get("id"))
        if isinstance(trace, Missing):
            job.counts.vanished += 1
        elif isinstance(trace, Failed):
            first = try_ts(unread.setdefault(session_id, iso(now) or "")) or now
            if now - first >= job.load.children_retry:
                given_up[session_id] = [f"trace ({trace.reason})"]
                del unread[session_id]
            else:
                held += [s for s in [try_ts(row.get("last_event_at"))] if s is not None]
        else:
            unread.pop(session_id, None)
            events += [{**e, "session_id": session_id} for e in pick_rows(trace, "events")]
            loaded.append(row)
    return loaded, events, held, given_up


def _advance_mark(state: dict[str, Any], rows: list[dict[str, Any]], held: list[datetime], now: datetime) -> None:
    """Move the cursor to the newest plausible `last_event_at` read, but not past a session
    whose trace must be read again."""
    newest = _newest_plausible(rows, now)
    if newest is not None and held:
        newest = min(newest, min(held) - SESSION_HOLD_MARGIN)
    mark = try_ts(state.get("mark"))
    if newest is not None and (mark is None or newest > mark):
        state["mark"] = iso(newest)


def _newest_plausible(rows: list[dict[str, Any]], now: datetime) -> datetime | None:
    """The newest `last_event_at` listed that is not beyond the host's now plus tolerance."""
    stamps = [s for s in (try_ts(r.get("last_event_at")) for r in rows) if s is not None]
    plausible = [s for s in stamps if s <= now + FUTURE_TOLERANCE]
    if len(plausible) < len(stamps):
        log.warning("sessions: %d sessions have last_event_at beyond the host's now (%s) plus "
                    "%s; they load, but the sessions cursor does not move by them",
                    len(stamps) - len(plausible), iso(now), FUTURE_TOLERANCE)
    return max(plausible, default=None)


def _after(value: Any, instant: datetime) -> bool:
    stamp = try_ts(value)
    return stamp is not None and stamp >= instant


def _session_cut(job: Job, window: Window, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """A coverage entry if the sessions list was cut inside the span this load needs."""
    load = job.load
    if len(rows) < load.session_limit:
        return None
    earliest = oldest(r.get("last_event_at") for r in rows)
    if window.since is not None and earliest is not None and earliest < window.since:
        return None  # the cut fell before the span this load needs
    total = None
    if window.since is None:
        overview = job.client.get("/insights/overview", {"range": window.range})
        kpis = overview.get("kpis") if isinstance(overview, dict) else None
        total = kpis.get("sessions") if isinstance(kpis, dict) else None
    entry = limit_cut("sessions", window.range, now, len(rows), total)
    if window.since is not None and earliest is not None:
        entry["missing_from"], entry["missing_to"] = iso(window.since), iso(earliest)
        entry["message"] += f" Sessions last active {iso(window.since)} .. {iso(earliest)} were not read."
    return entry
