"""The Armature dlt source: its settings, its resources, and the tables each one fills.

A run's children are fetched once, when the run is first seen terminal, so they belong to
the `runs` resource; likewise a session's events belong to `sessions`. Every resource may
also append to the load-health tables (`coverage_gaps`, `rejected_records`, `load_ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from armature_source import tables as t
from armature_source.config import ArmatureSourceConfiguration as Spec
from armature_source.load.context import Load
from armature_source.load.health_owner import HEALTH_OWNER, SourceResource
from armature_source.load.job import Job
from armature_source.resources.catalog import mcp_servers, organization, workflows
from armature_source.resources.insights import failed_searches, insights_overview, topics
from armature_source.resources.runs import runs
from armature_source.resources.sessions import sessions

Generator = Callable[[Job], Iterator[Any]]


@dataclass(frozen=True)
class Resource:
    """A resource: its generator and the tables it fills, its own table first."""

    generator: Generator
    tables: tuple[t.Table, ...]
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.generator.__name__


DECLARED: tuple[Resource, ...] = (
    Resource(organization, (t.ORGANIZATION,)),
    Resource(mcp_servers, (t.MCP_SERVERS,)),
    Resource(workflows, (t.WORKFLOWS,)),
    Resource(runs, (t.RUNS, t.TRACE_SPANS, t.TOOL_CALLS, t.EVALUATIONS, t.EVALUATION_CRITERIA),
             aliases=("traces",)),
    Resource(insights_overview, (t.INSIGHTS_OVERVIEW,), aliases=("overview",)),
    Resource(topics, (t.TOPICS, t.TOPIC_SNAPSHOTS)),
    Resource(failed_searches, (t.FAILED_SEARCHES, t.FAILED_SEARCH_SNAPSHOTS), aliases=("searches",)),
    Resource(sessions, (t.SESSIONS, t.SESSION_EVENTS), aliases=("session_traces",)),
)
# every data resource writes them, none owns them: they belong to HEALTH_OWNER, a resource
# that reads nothing, so dlt's own `drop <resource>` or a refresh of some resources never
# takes them (load.health_owner)
HEALTH_TABLES = t.HEALTH
RESOURCES = tuple(r.name for r in DECLARED)
# Names a user may pass to --resources (a resource, a table it fills, or an alias), mapped to
# the resource that loads them.
RESOURCE_ALIASES: dict[str, str] = {
    name: r.name for r in DECLARED for name in (r.name, *(x.name for x in r.tables), *r.aliases)
}


@dlt.source(name="armature", section="armature", max_table_nesting=0, spec=Spec)
def armature_source(
    base_url: Optional[str] = dlt.config.value,
    api_key: Optional[TSecretStrValue] = dlt.secrets.value,
    lookback_minutes: int = Spec.lookback_minutes,
    max_in_flight: int = Spec.max_in_flight,
    insight_ranges: Sequence[str] = Spec.insight_ranges,
    session_limit: int = Spec.session_limit,
    list_limit: int = Spec.list_limit,
    allow_insecure_http: bool = Spec.allow_insecure_http,
    retry_budget_s: float = Spec.retry_budget_s,
    max_attempts: int = Spec.max_attempts,
    timeout_s: float = Spec.timeout_s,
    request_deadline_s: float = Spec.request_deadline_s,
    max_body_bytes: int = Spec.max_body_bytes,
    children_retry_hours: float = Spec.children_retry_hours,
    max_load_minutes: float = Spec.max_load_minutes,
    start_date: Optional[str] = Spec.start_date,
    end_date: Optional[str] = Spec.end_date,
    config: Spec = None,  # type: ignore[assignment]  # dlt passes the resolved settings
    load: Optional[Load] = None,
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
        start_date, end_date: load only the runs started from `start_date` up to (not
            including) `end_date` (ISO 8601), with their children, and leave the cursors as
            they are: a backfill of a sub-range, as dlt's `initial_value` / `end_value`. Other
            resources load as usual (pick `runs` alone with `.with_resources("runs")`).
        config: the settings, resolved by dlt from the arguments above (leave it out).
        load: a load the caller already opened for its pre-flight check, e.g. the command's
            (leave it out: the source opens its own).

    Raises:
        ConfigError: a setting is missing or wrong (the message names it and where to set it).
    """
    assert config is not None  # dlt resolves it from the arguments
    load = load or Load(config, frozenset(RESOURCES))
    for resource in DECLARED:
        yield _resource(resource, load)
    yield dlt.resource(_owns_health_tables, name=HEALTH_OWNER)


def _owns_health_tables() -> Iterator[Any]:
    """Nothing to read: this resource only owns the health tables in dlt's schema."""
    yield from ()


def _resource(declared: Resource, load: Load) -> DltResource:
    """Wrap a generator as a dlt resource; each table it fills is declared as a variant.

    Variants start from the resource's own hints, so the resource itself carries none:
    otherwise the main table's key columns would leak into every other table.
    """
    name, generator = declared.name, declared.generator

    def bracketed(load: Load) -> Iterator[Any]:
        with load.running(name):
            job = Job(name, load)
            yield from generator(job)
            yield from job.closing_items()

    main = declared.tables[0]
    factory: Any = dlt.resource(bracketed, name=name, write_disposition=main.disposition,  # type: ignore[call-overload]
                                parallelized=True, _impl_cls=SourceResource)
    resource: SourceResource = factory(load)
    resource.batch_limits = load.batch_limits
    for table in (*declared.tables, *HEALTH_TABLES):
        resource.apply_hints(**table.hints(), create_table_variant=True)
    return resource
