"""The Armature dlt source, and its small dimension resources.

Resources and the tables they fill:

    organization      organization
    mcp_servers       mcp_servers
    workflows         workflows
    runs              runs, trace_spans, tool_calls, evaluations, evaluation_criteria (runs.py)
    insights_overview insights_overview                                          (insights.py)
    topics            topics, topic_snapshots
    failed_searches   failed_searches, failed_search_snapshots
    sessions          sessions, session_events

A run's children are fetched once, when the run is first seen terminal, so they belong to
the `runs` resource; likewise a session's events belong to `sessions`. Every resource may
also append to `coverage_gaps` when the API cannot serve part of what it should load.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Callable, Iterator, Optional, Sequence

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from armature_source import tables as t
from armature_source.http.client import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_IN_FLIGHT,
    ArmatureClient,
    RetryPolicy,
)
from armature_source.load.context import Load
from armature_source.load.job import Job
from armature_source.credentials import Connection
from armature_source.load.digests import Digests
from armature_source.errors import ConfigError, ContractError
from armature_source.resources.insights import failed_searches, insights_overview, sessions, topics
from armature_source.http.paging import pick_rows
from armature_source.resources.runs import runs
from armature_source.vocabulary import INSIGHT_RANGES, RANKED_LIST_LIMIT, SESSION_LIST_LIMIT

log = logging.getLogger("armature_source")

# a cron line every 15 minutes can then never pile up behind a hung load for long
DEFAULT_MAX_LOAD_MINUTES = 60.0

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


@dlt.source(name="armature", section="armature", max_table_nesting=0)
def armature_source(
    base_url: Optional[str] = dlt.config.value,
    api_key: Optional[TSecretStrValue] = dlt.secrets.value,
    lookback_minutes: int = 60,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    insight_ranges: Sequence[str] = tuple(INSIGHT_RANGES),
    session_limit: int = SESSION_LIST_LIMIT,
    list_limit: int = RANKED_LIST_LIMIT,
    allow_insecure_http: bool = False,
    retry_budget_s: float = 300.0,
    max_attempts: int = 8,
    timeout_s: float = 60.0,
    request_deadline_s: float = DEFAULT_DEADLINE_S,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    children_retry_hours: float = 24.0,
    max_load_minutes: float = DEFAULT_MAX_LOAD_MINUTES,
) -> Iterator[DltResource]:
    """Armature's workflow runs and MCP usage insights, loaded incrementally.

    Every argument is resolved the dlt way (section `sources.armature`: the argument itself,
    then `SOURCES__ARMATURE__<NAME>` and `.dlt/secrets.toml` / `.dlt/config.toml`); the base
    URL and key fall back to `ARMATURE_BASE_URL` / `ARMATURE_API_KEY` last.

    Args:
        base_url: dashboard URL (`https://your-org.armature.app`) or the REST base.
        api_key: `amt_<key-id>_<secret>`; a viewer key is enough.
        lookback_minutes: how far behind the last high-water mark each load re-reads.
        max_in_flight: most concurrent requests to the host (the adaptive limit's ceiling).
        insight_ranges: ranges whose topic/search/overview snapshots are taken each day.
        session_limit: `limit` for the sessions list (the host caps it at 100).
        list_limit: `limit` for the topics and failed-searches lists (capped at 200).
        allow_insecure_http: permit plain http to a host that is not loopback.
        retry_budget_s: longest time one request, with all its retries, may take.
        max_attempts: most tries of one request.
        timeout_s: longest silence while connecting or reading before an attempt fails.
        request_deadline_s: longest one attempt may take, connect, headers and body together.
        max_body_bytes: largest body read; a larger one is cut off and counted as unreadable.
        children_retry_hours: how long a terminal run's missing trace, tool calls or
            evaluation are asked for again before they are recorded as a coverage gap.
        max_load_minutes: the whole load's deadline: then each resource stops where what it
            delivered is complete, and the next load goes on from there.

    Raises:
        ConfigError: a setting is missing or wrong (the message names it and where to set it).
    """
    connection = Connection.checked(base_url, api_key, allow_insecure_http)
    if not max_load_minutes > 0:
        raise ConfigError(f"max_load_minutes is {max_load_minutes!r}; it must be a number of "
                          "minutes above 0 ([sources.armature] max_load_minutes).")
    unknown = [r for r in insight_ranges if r not in INSIGHT_RANGES]
    if unknown:
        raise ConfigError(
            f"insight_ranges has {unknown}; allowed are {list(INSIGHT_RANGES)} "
            "([sources.armature] insight_ranges)."
        )
    retry = RetryPolicy(max_attempts=max_attempts, budget_s=retry_budget_s)

    def open_client() -> ArmatureClient:
        return ArmatureClient(connection, max_in_flight=max_in_flight, timeout_s=timeout_s, retry=retry,
                              request_deadline_s=request_deadline_s, max_body_bytes=max_body_bytes)

    load = Load(
        open_client,
        timedelta(minutes=lookback_minutes),
        session_limit,
        list_limit,
        tuple(sorted(insight_ranges, key=lambda r: INSIGHT_RANGES[r])),
        timedelta(hours=children_retry_hours),
        frozenset(RESOURCES),
        deadline_s=max_load_minutes * 60,
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


@with_config(sections=("sources", "armature"))
def load_deadline_minutes(max_load_minutes: float = DEFAULT_MAX_LOAD_MINUTES) -> float:
    """`max_load_minutes` as the source resolves it, for a caller that watches the load."""
    return float(max_load_minutes)


def _resource(fn: Callable[[Job], Iterator[Any]], load: Load, main: t.Table, *others: t.Table) -> DltResource:
    """Wrap a generator as a dlt resource; each table it fills is declared as a variant.

    Variants start from the resource's own hints, so the resource itself carries none:
    otherwise the main table's key columns would leak into every other table.
    """
    name = fn.__name__

    def bracketed(load: Load) -> Iterator[Any]:
        with load.running(name):
            job = Job(name, load)
            yield from fn(job)
            yield from job.closing_items()

    factory: Any = dlt.resource(bracketed, name=name, write_disposition=main.disposition, parallelized=True)  # type: ignore[call-overload]
    resource: DltResource = factory(load)
    for table in (main, *others, t.COVERAGE, t.REJECTED, t.LOAD_LEDGER):
        resource.apply_hints(**table.hints(), create_table_variant=True)
    return resource


def organization(job: Job) -> Iterator[Any]:
    """GET /org: the organization and the role of the key that reads it."""
    if job.out_of_time("before reading the organization"):
        return
    body = job.client.get("/org")
    if not isinstance(body, dict):
        raise ContractError(f"GET /org answered {type(body).__name__}; expected a JSON object.")
    org: dict[str, Any] = body.get("organization") or body
    actor: dict[str, Any] = body.get("actor") or {}
    job.counts.listed = 1
    log.info("organization: %s, key role %s", org.get("slug"), actor.get("role"))
    yield from job.emit(t.ORGANIZATION, [{
        **org, "actor_role": actor.get("role"), "actor_api_key_name": actor.get("api_key_name"),
    }])


def mcp_servers(job: Job) -> Iterator[Any]:
    """GET /mcp-servers and each server's detail (for its tools)."""
    if job.out_of_time("before reading the MCP sources"):
        return
    rows = pick_rows(job.client.get("/mcp-servers"), "mcp_servers")
    details = job.client.get_many((job.client.path("mcp-servers", r.get("id")), None) for r in rows)
    for row, detail in zip(rows, details):
        if isinstance(detail, dict):
            row["tools"] = detail.get("tools")
    digests = Digests(dlt.current.resource_state())
    fresh = digests.fresh(rows)
    job.counts.listed, job.counts.skipped = len(rows), len(rows) - len(fresh)
    log.info("mcp_servers: %d listed, %d new or changed", len(rows), len(fresh))
    yield from job.emit(t.MCP_SERVERS, fresh)
    digests.commit()


def workflows(job: Job) -> Iterator[Any]:
    """GET /workflows, with the current version flattened into columns.

    The list shows live workflows only; one that drops out of it (archived) is read once by
    id, so the warehouse keeps it, marked with its archived state, instead of losing track.
    """
    if job.out_of_time("before reading the workflows"):
        return
    state = dlt.current.resource_state()
    listed = pick_rows(job.client.get("/workflows"), "workflows")
    rows = [_flat_workflow(r) for r in listed]
    now_listed = {str(r.get("id")) for r in rows}
    dropped = sorted(set(state.get("listed", [])) - now_listed)
    details = job.client.get_many((job.client.path("workflows", wf_id), None) for wf_id in dropped)
    for wf_id, detail in zip(dropped, details):
        if isinstance(detail, dict):
            rows.append(_flat_workflow(detail))
        else:
            log.warning("workflows: %s is no longer served (404); kept as last seen", wf_id)
            job.counts.vanished += 1
    digests = Digests(state)
    fresh = digests.fresh(rows)
    job.counts.listed, job.counts.skipped = len(listed), len(rows) - len(fresh)
    log.info("workflows: %d listed, %d dropped out of the list, %d new or changed",
             len(listed), len(dropped), len(fresh))
    yield from job.emit(t.WORKFLOWS, fresh)
    digests.commit()
    state["listed"] = sorted(now_listed)


def _flat_workflow(row: dict[str, Any]) -> dict[str, Any]:
    version = row.pop("current_version", None)
    version = version if isinstance(version, dict) else {}
    row["current_version_id"] = version.get("id")
    row["current_version_number"] = version.get("number")
    row["current_version_created_at"] = version.get("created_at")
    return row
