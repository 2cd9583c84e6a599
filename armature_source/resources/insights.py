"""The MCP usage insights resources read as daily snapshots: overview, topics, failed searches.

Insights lists have no paging: each range is read once up to its `limit`, and what lies
beyond is recorded as a coverage gap. An organization without MCP Analytics (403
`feature_disabled`) skips these and `sessions` with one warning.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from armature_source import endpoints as api
from armature_source import tables as t
from armature_source.endpoints import Endpoint
from armature_source.errors import ContractError, FeatureDisabledError
from armature_source.http.paging import pick_rows
from armature_source.load.coverage import limit_cut, record_gap
from armature_source.load.digests import Digests
from armature_source.load.job import Job
from armature_source.load.state import CatalogState, resource_state

log = logging.getLogger("armature_source")


def insights_overview(job: Job) -> Iterator[Any]:
    """GET /insights/overview for each range: one row per day and range."""
    load = job.load
    if not load.insights_on("insights_overview") or job.out_of_time("before the overview"):
        return
    state: CatalogState = resource_state()
    digests = Digests(state)
    today = load.now().date().isoformat()
    rows = []
    try:
        for range_ in load.config.insight_ranges:
            body = job.client.get(api.OVERVIEW.path(), {"range": range_})
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
    log.info("insights_overview: %d ranges, %d new or changed", len(rows), len(fresh),
             extra={"rows": len(fresh), "listed": len(rows)})
    yield from job.emit(t.INSIGHTS_OVERVIEW, fresh)
    job.after(digests.commit)


def topics(job: Job) -> Iterator[Any]:
    """Topics: the current record (counts over the widest range) and a snapshot per range."""
    yield from _ranked_lists(job, "topics", api.TOPICS, t.TOPIC_SNAPSHOTS, "topic_id", {"sort": "volume"})


def failed_searches(job: Job) -> Iterator[Any]:
    """Failed-search clusters: the current record and a snapshot per range."""
    yield from _ranked_lists(job, "failed_searches", api.SEARCHES, t.FAILED_SEARCH_SNAPSHOTS,
                             "failed_search_id", {})


def _ranked_lists(
    job: Job, resource: str, endpoint: Endpoint, snapshots: t.Table, id_column: str,
    params: dict[str, Any],
) -> Iterator[Any]:
    load = job.load
    if not load.insights_on(resource):
        return
    assert endpoint.table is not None
    current, limit = endpoint.table, load.config.list_limit
    state: CatalogState = resource_state()
    digests = Digests(state)
    now = load.now()
    today = now.date().isoformat()
    latest: dict[str, dict[str, Any]] = {}
    try:
        for range_ in load.config.insight_ranges:
            if job.out_of_time(f"before the {range_} list"):
                break
            query = {**params, "range": range_, "limit": limit}
            rows = pick_rows(job.client.get(endpoint.path(), query), *endpoint.envelope)
            job.counts.listed += len(rows)
            if len(rows) >= limit:
                yield from record_gap(limit_cut(resource, range_, now, len(rows), None))
            snaps = [
                {**{c: r.get(c) for c in snapshots.columns}, id_column: r.get("id"),
                 "range": range_, "snapshot_date": today}
                for r in rows
            ]
            if snaps and digests.changed(f"snapshots:{range_}", snaps):
                yield from job.emit(snapshots, snaps)
                job.after(digests.commit)
            # ranges run narrow to wide: the widest range's counts win in the current record
            latest.update({str(r.get("id")): {**r, "counts_range": range_} for r in rows})
    except FeatureDisabledError as exc:
        load.disable_insights(exc)
        return
    fresh = digests.fresh(list(latest.values()))
    job.counts.skipped += len(latest) - len(fresh)
    log.info("%s: %d current, %d new or changed", resource, len(latest), len(fresh),
             extra={"rows": len(fresh), "listed": len(latest)})
    yield from job.emit(current, fresh)
    job.after(digests.commit)
