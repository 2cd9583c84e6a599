"""The Armature dlt source and its resources.

Resources and the tables they fill:

    organization      organization
    mcp_servers       mcp_servers
    workflows         workflows
    runs              runs, trace_spans, tool_calls, evaluations, evaluation_criteria
    insights_overview insights_overview
    topics            topics, topic_snapshots
    failed_searches   failed_searches, failed_search_snapshots
    sessions          sessions, session_events

A run's children are fetched once, when the run is first seen terminal, so they belong to
the `runs` resource; likewise a session's events belong to `sessions`. Every resource may
also append to `coverage_gaps` when the API cannot serve part of what it should load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Sequence

import dlt
import pyarrow as pa
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from armature_source import tables as t
from armature_source.client import ArmatureClient, Missing, RetryPolicy
from armature_source.errors import ConfigError, FeatureDisabledError
from armature_source.paging import iter_pages, pick_rows, snake_keys
from armature_source.windows import (
    INSIGHT_RANGES,
    RUN_RANGES,
    RunBook,
    is_terminal,
    cut_record,
    gap_record,
    iso,
    parse_ts,
    pick_window,
)

log = logging.getLogger("armature_source")

RESOURCES = (
    "organization", "mcp_servers", "workflows", "runs", "insights_overview", "topics",
    "failed_searches", "sessions",
)
# Names a user may pass to --resources, mapped to the resource that loads them.
RESOURCE_ALIASES: dict[str, str] = {
    **{name: name for name in RESOURCES},
    "traces": "runs", "trace_spans": "runs", "tool_calls": "runs", "evaluations": "runs",
    "evaluation_criteria": "runs", "topic_snapshots": "topics",
    "failed_search_snapshots": "failed_searches", "searches": "failed_searches",
    "overview": "insights_overview", "session_traces": "sessions", "session_events": "sessions",
}
VERDICT_STATUSES = frozenset({"pass", "partial", "fail"})
DETAIL_ONLY_RUN_FIELDS = ("judge_model", "evaluator_output")
PROGRESS_EVERY_PAGES = 10


@dataclass
class Load:
    """What the resources of one load share: the client, settings, and the insights switch."""

    client: ArmatureClient
    lookback: timedelta
    session_limit: int
    list_limit: int
    insight_ranges: tuple[str, ...]
    insights_off: bool = False
    _now: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        """The host's clock at the start of this load, to the second; one value per load."""
        with self._lock:
            if self._now is None:
                self._now = self.client.server_now().replace(microsecond=0)
            return self._now

    def disable_insights(self, exc: FeatureDisabledError) -> None:
        """Warn once per load that MCP Analytics is off; later insights resources skip."""
        with self._lock:
            if self.insights_off:
                return
            self.insights_off = True
        log.warning(
            "MCP Analytics is not enabled for this organization (%s). Skipping the insights "
            "resources (overview, topics, failed searches, sessions); everything else loads. "
            "Enable MCP Analytics in Armature, or leave them out with --resources.",
            exc,
        )


@dlt.source(name="armature", section="armature", max_table_nesting=0)
def armature_source(
    base_url: str = dlt.config.value,
    api_key: TSecretStrValue = dlt.secrets.value,
    lookback_minutes: int = 60,
    max_in_flight: int = 8,
    insight_ranges: Sequence[str] = ("24h", "7d", "30d", "90d"),
    session_limit: int = 100,
    list_limit: int = 200,
    allow_insecure_http: bool = False,
    retry_budget_s: float = 300.0,
    max_attempts: int = 8,
    timeout_s: float = 60.0,
) -> Iterator[DltResource]:
    """Armature's workflow runs and MCP usage insights, loaded incrementally.

    Args:
        base_url: dashboard URL (`https://your-org.armature.app`) or the REST base.
        api_key: `amt_<key-id>_<secret>`; a viewer key is enough.
        lookback_minutes: how far behind the last high-water mark each load re-reads.
        max_in_flight: most concurrent requests to the host.
        insight_ranges: ranges whose topic/search/overview snapshots are taken each day.
        session_limit: `limit` for the sessions list (the host caps it at 100).
        list_limit: `limit` for the topics and failed-searches lists (capped at 200).
        allow_insecure_http: permit plain http to a host that is not loopback.
        retry_budget_s: longest time one request keeps retrying transient failures.
        max_attempts: most tries of one request.
        timeout_s: longest wait for one answer before it counts as a transient failure.
    """
    # every row traces to its load, Arrow tables included (dlt adds the column only when asked)
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    unknown = [r for r in insight_ranges if r not in INSIGHT_RANGES]
    if unknown:
        raise ConfigError(
            f"insight_ranges has {unknown}; allowed are {list(INSIGHT_RANGES)} "
            "([sources.armature] insight_ranges)."
        )
    client = ArmatureClient(
        base_url,
        api_key,
        max_in_flight=max_in_flight,
        allow_http=allow_insecure_http,
        timeout_s=timeout_s,
        retry=RetryPolicy(max_attempts=max_attempts, budget_s=retry_budget_s),
    )
    load = Load(
        client,
        timedelta(minutes=lookback_minutes),
        session_limit,
        list_limit,
        tuple(sorted(insight_ranges, key=lambda r: INSIGHT_RANGES[r])),
    )
    yield _resource(organization, load, t.ORGANIZATION)
    yield _resource(mcp_servers, load, t.MCP_SERVERS)
    yield _resource(workflows, load, t.WORKFLOWS)
    yield _resource(runs, load, t.RUNS, t.TRACE_SPANS, t.TOOL_CALLS, t.EVALUATIONS,
                    t.EVALUATION_CRITERIA)
    yield _resource(insights_overview, load, t.INSIGHTS_OVERVIEW)
    yield _resource(topics, load, t.TOPICS, t.TOPIC_SNAPSHOTS)
    yield _resource(failed_searches, load, t.FAILED_SEARCHES, t.FAILED_SEARCH_SNAPSHOTS)
    yield _resource(sessions, load, t.SESSIONS, t.SESSION_EVENTS)


def _resource(fn: Any, load: Load, main: t.Table, *others: t.Table) -> DltResource:
    """Wrap a generator as a dlt resource; each table it fills is declared as a variant.

    Variants start from the resource's own hints, so the resource itself carries none:
    otherwise the main table's key columns would leak into every other table.
    """
    factory: Any = dlt.resource(fn, name=fn.__name__, write_disposition=main.disposition)  # type: ignore[call-overload]
    resource: DltResource = factory(load)
    for table in (main, *others, t.COVERAGE):
        resource.apply_hints(**table.hints(), create_table_variant=True)
    return resource


def to(table: t.Table, rows: Iterable[dict[str, Any]]) -> Any:
    """Rows as an Arrow item routed to `table`."""
    return dlt.mark.with_table_name(table.arrow(rows), table.name)


def record_gap(entry: dict[str, Any]) -> Any:
    """Warn about a coverage gap, keep it in the source state, and route it to its table."""
    log.warning("coverage gap: %s", entry["message"])
    kept = dlt.current.source_state().setdefault("coverage", [])
    kept.append(entry)
    del kept[:-100]
    return to(t.COVERAGE, [entry])


def unchanged(state: dict[str, Any], key: str, rows: Any) -> bool:
    """Whether `rows` equal what this resource last loaded under `key` (remembers them)."""
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    digests = state.setdefault("digests", {})
    if digests.get(key) == digest:
        return True
    digests[key] = digest
    return False


def changed_rows(state: dict[str, Any], rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """The rows whose content differs from the last load, by their key."""
    return [row for row in rows if not unchanged(state, f"{key}:{row.get(key)}", row)]


def organization(load: Load) -> Iterator[Any]:
    """GET /org: the organization and the role of the key that reads it."""
    body: dict[str, Any] = snake_keys(load.client.get("/org"))
    org: dict[str, Any] = body.get("organization") or body
    actor: dict[str, Any] = body.get("actor") or {}
    log.info("organization: %s, key role %s", org.get("slug"), actor.get("role"))
    yield to(t.ORGANIZATION, [{
        **org, "actor_role": actor.get("role"), "actor_api_key_name": actor.get("api_key_name"),
    }])


def mcp_servers(load: Load) -> Iterator[Any]:
    """GET /mcp-servers and each server's detail (for its tools)."""
    rows = [snake_keys(r) for r in pick_rows(load.client.get("/mcp-servers"), "mcp_servers")]
    details = load.client.get_many((f"/mcp-servers/{r['id']}", None) for r in rows)
    for row, detail in zip(rows, details):
        if not isinstance(detail, Missing):
            row["tools"] = snake_keys(detail).get("tools")
    fresh = changed_rows(dlt.current.resource_state(), rows)
    log.info("mcp_servers: %d listed, %d new or changed", len(rows), len(fresh))
    if fresh:
        yield to(t.MCP_SERVERS, fresh)


def workflows(load: Load) -> Iterator[Any]:
    """GET /workflows, with the current version flattened into columns.

    The list shows live workflows only; one that drops out of it (archived) is read once by
    id, so the warehouse keeps it, marked with its archived state, instead of losing track.
    """
    state = dlt.current.resource_state()
    listed = pick_rows(load.client.get("/workflows"), "workflows")
    rows = [_flat_workflow(snake_keys(r)) for r in listed]
    now_listed = {str(r["id"]) for r in rows}
    dropped = sorted(set(state.get("listed", [])) - now_listed)
    details = load.client.get_many((f"/workflows/{wf_id}", None) for wf_id in dropped)
    for wf_id, detail in zip(dropped, details):
        if isinstance(detail, Missing):
            log.warning("workflows: %s is no longer served (404); kept as last seen", wf_id)
        else:
            rows.append(_flat_workflow(snake_keys(detail)))
    state["listed"] = sorted(now_listed)
    fresh = changed_rows(state, rows)
    log.info("workflows: %d listed, %d dropped out of the list, %d new or changed",
             len(listed), len(dropped), len(fresh))
    if fresh:
        yield to(t.WORKFLOWS, fresh)


def _flat_workflow(row: dict[str, Any]) -> dict[str, Any]:
    version = row.pop("current_version", None) or {}
    row["current_version_id"] = version.get("id")
    row["current_version_number"] = version.get("number")
    row["current_version_created_at"] = version.get("created_at")
    return row


def runs(load: Load) -> Iterator[Any]:
    """Runs, newest first, back to the high-water mark; then open runs re-read by id.

    A run's trace, tool calls and evaluation are fetched once, when it is first seen
    terminal. Runs still pending or running are remembered and re-read until they end.
    """
    book = RunBook.load(dlt.current.resource_state())
    now = load.now()
    window = pick_window(RUN_RANGES, now, book.mark, load.lookback)
    log.info("runs: %s, %d open runs to re-check", window.describe(), len(book.open))
    if window.gap:
        yield record_gap(gap_record("runs", window, now))
    listed: set[str] = set()
    pages = 0
    fetch = lambda params: load.client.get("/runs", params)  # noqa: E731
    for page in iter_pages(fetch, {"range": window.range, "sort": "-started_at"}, "runs"):
        pages += 1
        rows = [_run_row(r) for r in page if str(r.get("id")) not in listed]
        listed.update(r["id"] for r in rows)
        wanted = [r for r in rows if book.wants(r, window.since)]
        yield from _emit_runs(load, book, wanted)
        if pages % PROGRESS_EVERY_PAGES == 0:
            log.info("runs: %d pages, %d runs listed, %d finished runs loaded",
                     pages, len(listed), book.finished_now)
        oldest = _oldest(r.get("started_at") for r in rows)
        if window.since and oldest and oldest < window.since:
            break
    stale = [run_id for run_id in book.open if run_id not in listed]
    details = load.client.get_many((f"/runs/{run_id}", None) for run_id in stale)
    rechecked = []
    for run_id, detail in zip(stale, details):
        if isinstance(detail, Missing):
            book.vanish(run_id)
        else:
            rechecked.append(_run_row(detail))
    yield from _emit_runs(load, book, rechecked)
    book.save(now, load.lookback)
    log.info(
        "runs: done, %d pages, %d listed, %d open re-checked, %d finished runs loaded with "
        "children, %d still open, %d vanished (404) and skipped",
        pages, len(listed), len(stale), book.finished_now, len(book.open), book.vanished_now,
    )


def _oldest(values: Iterable[Any]) -> datetime | None:
    stamps = [s for s in map(parse_ts, values) if s is not None]
    return min(stamps, default=None)


def _run_row(raw: dict[str, Any]) -> dict[str, Any]:
    row = snake_keys(raw)
    for name in DETAIL_ONLY_RUN_FIELDS:
        row.pop(name, None)
    row["id"] = str(row["id"])
    return row


def _emit_runs(load: Load, book: RunBook, rows: list[dict[str, Any]]) -> Iterator[Any]:
    """Yield the rows that are new or changed, and the children of runs that just ended."""
    out: list[dict[str, Any]] = []
    finished: list[dict[str, Any]] = []
    for row in rows:
        if is_terminal(row.get("status")):
            finished.append(row)
        elif book.note_open(row):
            out.append(row)
    children = RunChildren()
    for row, parts in zip(finished, _fetch_children(load, finished)):
        if parts is None:
            book.vanish(row["id"])
            continue
        children.add(row["id"], *parts)
        book.finish(row)
        out.append(row)
    if out:
        yield to(t.RUNS, out)
    yield from children.items()


def _fetch_children(load: Load, finished: list[dict[str, Any]]) -> Iterator[tuple[Any, Any, Any] | None]:
    """For each finished run: (trace, tool calls, evaluation) bodies, or None if it vanished."""
    requests: list[tuple[str, None]] = []
    for row in finished:
        base = f"/runs/{row['id']}"
        requests += [(f"{base}/trace", None), (f"{base}/tool-calls", None)]
        if row.get("status") in VERDICT_STATUSES:
            requests.append((f"{base}/evaluation", None))
    bodies = load.client.get_many(requests)
    for row in finished:
        trace, calls = next(bodies), next(bodies)
        evaluation = next(bodies) if row.get("status") in VERDICT_STATUSES else None
        if isinstance(trace, Missing) or isinstance(calls, Missing):
            yield None
            continue
        if isinstance(evaluation, Missing):
            evaluation = None
        yield trace, calls, evaluation


class RunChildren:
    """Collects the child rows of a batch of finished runs into one Arrow table per table."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.criteria: list[dict[str, Any]] = []

    def add(self, run_id: str, trace: Any, calls: Any, evaluation: Any) -> None:
        self.spans += [{**snake_keys(s), "run_id": run_id} for s in pick_rows(trace, "spans")]
        self.calls += [
            {**snake_keys(c), "run_id": run_id} for c in pick_rows(calls, "tool_calls")
        ]
        if evaluation is not None:
            ev = snake_keys(evaluation)
            criteria = ev.pop("criteria", None) or []
            self.evaluations.append({**ev, "run_id": run_id})
            self.criteria += [{**c, "run_id": run_id} for c in criteria]

    def items(self) -> Iterator[Any]:
        for table, rows in (
            (t.TRACE_SPANS, self.spans), (t.TOOL_CALLS, self.calls),
            (t.EVALUATIONS, self.evaluations), (t.EVALUATION_CRITERIA, self.criteria),
        ):
            if rows:
                yield to(table, rows)


def _insights(load: Load, resource: str) -> bool:
    """Whether an insights resource should run (False once MCP Analytics proved off)."""
    if load.insights_off:
        log.info("%s: skipped, insights are off for this organization", resource)
    return not load.insights_off


def insights_overview(load: Load) -> Iterator[Any]:
    """GET /insights/overview for each range: one row per day and range."""
    if not _insights(load, "insights_overview"):
        return
    state = dlt.current.resource_state()
    today = load.now().date().isoformat()
    rows = []
    try:
        for range_ in load.insight_ranges:
            body = snake_keys(load.client.get("/insights/overview", {"range": range_}))
            kpis = body.pop("kpis", None) or {}
            rows.append({**body, **kpis, "range": range_, "snapshot_date": today})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    # the day is part of what is compared, so a new day writes its snapshot even if unchanged
    fresh = [r for r in rows if not unchanged(state, f"overview:{r['range']}", r)]
    log.info("insights_overview: %d ranges, %d new or changed", len(rows), len(fresh))
    if fresh:
        yield to(t.INSIGHTS_OVERVIEW, fresh)


def topics(load: Load) -> Iterator[Any]:
    """Topics: the current record (counts over the widest range) and a snapshot per range."""
    yield from _ranked_lists(
        load, "topics", "/insights/topics", t.TOPICS, t.TOPIC_SNAPSHOTS, "topic_id",
        {"sort": "volume"},
    )


def failed_searches(load: Load) -> Iterator[Any]:
    """Failed-search clusters: the current record and a snapshot per range."""
    yield from _ranked_lists(
        load, "failed_searches", "/insights/searches", t.FAILED_SEARCHES,
        t.FAILED_SEARCH_SNAPSHOTS, "failed_search_id", {},
    )


def _ranked_lists(
    load: Load, resource: str, path: str, current: t.Table, snapshots: t.Table,
    id_column: str, params: dict[str, Any],
) -> Iterator[Any]:
    if not _insights(load, resource):
        return
    state = dlt.current.resource_state()
    now = load.now()
    today = now.date().isoformat()
    latest: dict[str, dict[str, Any]] = {}
    try:
        for range_ in load.insight_ranges:
            query = {**params, "range": range_, "limit": load.list_limit}
            rows = [snake_keys(r) for r in pick_rows(load.client.get(path, query), resource, "clusters")]
            if len(rows) >= load.list_limit:
                yield record_gap(cut_record(resource, range_, now, len(rows), None))
            snaps = [
                {**{c: r.get(c) for c in snapshots.columns}, id_column: r["id"], "range": range_,
                 "snapshot_date": today}
                for r in rows
            ]
            if snaps and not unchanged(state, f"snapshots:{range_}", snaps):
                yield to(snapshots, snaps)
            # ranges run narrow to wide: the widest range's counts win in the current record
            latest.update({r["id"]: {**r, "counts_range": range_} for r in rows})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    fresh = changed_rows(state, list(latest.values()))
    log.info("%s: %d current, %d new or changed", resource, len(latest), len(fresh))
    if fresh:
        yield to(current, fresh)


def sessions(load: Load) -> Iterator[Any]:
    """Sessions that are new or grew since the last load, and their traces (re-read whole)."""
    if not _insights(load, "sessions"):
        return
    state = dlt.current.resource_state()
    known: dict[str, list[Any]] = state.setdefault("known", {})
    now = load.now()
    window = pick_window(INSIGHT_RANGES, now, parse_ts(state.get("mark")), load.lookback)
    log.info("sessions: %s, limit %d", window.describe(), load.session_limit)
    if window.gap:
        yield record_gap(gap_record("sessions", window, now))
    try:
        body = load.client.get("/insights/sessions", {"range": window.range, "limit": load.session_limit})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    rows = [snake_keys(r) for r in pick_rows(body, "sessions")]
    cut = _session_cut(load, window, rows, now)
    if cut:
        yield record_gap(cut)
    wanted = [
        r for r in rows
        if (window.since is None or _after(r.get("last_event_at"), window.since))
        and known.get(str(r["id"])) != [r.get("last_event_at"), r.get("event_count")]
    ]
    traces = load.client.get_many((f"/insights/sessions/{r['id']}/trace", None) for r in wanted)
    loaded, events, vanished = [], [], 0
    for row, trace in zip(wanted, traces):
        if isinstance(trace, Missing):
            vanished += 1
            continue
        session_id = str(row["id"])
        events += [{**snake_keys(e), "session_id": session_id} for e in pick_rows(trace, "events")]
        known[session_id] = [row.get("last_event_at"), row.get("event_count")]
        loaded.append(row)
    if loaded:
        yield to(t.SESSIONS, loaded)
    if events:
        yield to(t.SESSION_EVENTS, events)
    horizon = now - load.lookback - timedelta(minutes=30)
    for session_id in [k for k, v in known.items() if not _after(v[0], horizon)]:
        del known[session_id]
    state["mark"] = iso(now)
    log.info("sessions: done, %d listed, %d new or grown loaded with %d events, %d vanished",
             len(rows), len(loaded), len(events), vanished)


def _after(value: Any, instant: datetime) -> bool:
    stamp = parse_ts(value)
    return stamp is not None and stamp >= instant


def _session_cut(load: Load, window: Any, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """A coverage entry if the sessions list was cut inside the span this load needs."""
    if len(rows) < load.session_limit:
        return None
    oldest = _oldest(r.get("last_event_at") for r in rows)
    if window.since is not None and oldest is not None and oldest < window.since:
        return None  # the cut fell before the span this load needs
    total = None
    if window.since is None:
        overview = snake_keys(load.client.get("/insights/overview", {"range": window.range}))
        total = (overview.get("kpis") or {}).get("sessions")
    entry = cut_record("sessions", window.range, now, len(rows), total)
    if window.since is not None and oldest is not None:
        entry["missing_from"], entry["missing_to"] = iso(window.since), iso(oldest)
        entry["message"] += f" Sessions last active {iso(window.since)} .. {iso(oldest)} were not read."
    return entry
