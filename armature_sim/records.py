"""Every record the API puts on the wire, declared once (CONTRACT.md section 1).

The world builds these (its builders are typed with them, so mypy holds every key), the
dialects encode them, and `armature_sim.schemas` generates the OpenAPI component schemas
from them. Each record is a `TypedDict` in the `armature` dialect's snake_case; what the
document needs beyond the Python type rides along in `typing.Annotated` (the marks of
`armature_sim.wire_types`):

    status: Annotated[str, OneOf(RUN_STATUSES)]          -> "enum": [...]
    cost_usd: Annotated[float | None, Bounds(minimum=0)]  -> "minimum": 0, "nullable": true
    attributes: Annotated[Opaque, Doc("...")]             -> a free-form object, described

`X | None` means the member is always there but may be null; `NotRequired` means it may be
absent. A `datetime` is served as an RFC 3339 string (`format: date-time`). A record the
document names as a component is referenced where another record holds it; any other
nested record is written out in place. The class docstring is the description. What the
HTTP layer wraps records in (lists, paging, errors) is in `armature_sim.envelopes`.

This module has no `from __future__ import annotations`: the schema generator and the
TypedDict machinery read the annotations as objects.
"""

from datetime import datetime
from typing import Annotated, Any, TypedDict

from armature_sim.vocabulary import (
    CLASSIFICATIONS,
    CRITERION_VERDICTS,
    EVENT_KINDS,
    INSIGHT_RANGES,
    RUN_STATUSES,
    SPAN_KINDS,
    SPAN_STATUSES,
    TARGET_KINDS,
    TRANSPORTS,
    TRIGGERS,
    VERDICTS,
    WORKFLOW_STATES,
)
from armature_sim.wire_types import Bounds, Count, Doc, IsoDate, OneOf, Opaque, Share


class Organization(TypedDict):
    """The organization the key belongs to."""

    id: str
    slug: str
    name: str


class McpServer(TypedDict):
    """An MCP source; `GET /mcp-servers` lists the production ones."""

    id: str
    name: str
    transport_type: Annotated[str, OneOf(TRANSPORTS)]
    target_kind: Annotated[str, OneOf(TARGET_KINDS)]
    base_url: str | None
    categories: list[str]
    environment: str
    created_at: datetime
    updated_at: datetime


class Tool(TypedDict):
    """One tool of an MCP source's catalog."""

    name: str
    description: str


class McpServerDetail(McpServer):
    """GET /mcp-servers/{id}: the list record plus its tool catalog."""

    tools: list[Tool]


class Schedule(TypedDict):
    """A five-field cron and its time zone."""

    cron: str
    timezone: str


class Criterion(TypedDict):
    """One thing the judge checks for every run of the workflow's current version."""

    id: str
    text: str
    is_required: bool


class VersionRef(TypedDict):
    """The workflow version new runs are dispatched with."""

    id: str
    number: Annotated[int, Bounds(minimum=1)]
    created_at: datetime


class Workflow(TypedDict):
    """A workflow with its schedule, criteria and current version."""

    id: str
    name: str
    description: str
    mcp_server_id: str
    state: Annotated[str, OneOf(WORKFLOW_STATES)]
    categories: list[str]
    schedule: Annotated[Schedule | None, Doc("When the workflow runs; null: only when dispatched.")]
    tester_model_ids: list[str]
    criteria: list[Criterion]
    current_version: VersionRef
    created_at: datetime
    updated_at: datetime
    archived_at: Annotated[datetime | None, Doc("Null while the workflow is not archived.")]


class Run(TypedDict):
    """A run of a workflow; the end, duration, cost and classification are null until terminal."""

    id: str
    workflow_id: str
    workflow_name: str
    workflow_version_id: str
    mcp_server_id: str
    status: Annotated[str, OneOf(RUN_STATUSES)]
    classification: Annotated[str | None, OneOf(CLASSIFICATIONS)]
    trigger: Annotated[str, OneOf(TRIGGERS)]
    model: str
    started_at: datetime
    ended_at: datetime | None
    duration_ms: Count | None
    cost_usd: Annotated[float | None, Bounds(minimum=0)]
    tool_call_count: Count
    baseline_run_id: str | None
    reason: str | None


class EvaluatorOutput(TypedDict):
    """The judge's verdict in short."""

    verdict: Annotated[str, OneOf(VERDICTS)]
    summary: str


class RunDetail(Run):
    """GET /runs/{id}: the run plus the judge and its output once terminal."""

    judge_model: str | None
    evaluator_output: EvaluatorOutput | None


class Span(TypedDict):
    """One span of a run's trace."""

    id: str
    parent_id: Annotated[str | None, Doc("Null at the root span.")]
    name: str
    kind: Annotated[str, OneOf(SPAN_KINDS)]
    status: Annotated[str, OneOf(SPAN_STATUSES)]
    started_at: datetime
    ended_at: datetime
    duration_ms: Count
    attributes: Annotated[Opaque, Doc("Model, token counts, tool_name and more; open-ended.")]


class CriterionResult(TypedDict):
    """The judge's finding on one criterion."""

    criterion_id: str
    text: str
    is_required: bool
    verdict: Annotated[str, OneOf(CRITERION_VERDICTS)]
    score: Share
    rationale: str
    excerpts: list[str]


class Evaluation(TypedDict):
    """GET /runs/{id}/evaluation: the judge's verdict per criterion."""

    run_id: str
    verdict: Annotated[str, OneOf(VERDICTS)]
    classification: Annotated[str, OneOf(CLASSIFICATIONS)]
    judge_model: str
    summary: str
    criteria: list[CriterionResult]


class ToolCall(TypedDict):
    """One recorded MCP tool call of a run."""

    id: str
    seq: Annotated[int, Bounds(minimum=0), Doc("Order in the run, from 0.")]
    span_id: str
    tool_name: str
    arguments: Annotated[Opaque, Doc("The tool's arguments; open-ended.")]
    result: Annotated[Any, Doc("The tool's result body: any JSON, up to about 64 KiB.")]
    is_error: bool
    error_message: str | None
    started_at: datetime
    duration_ms: Count


class Kpis(TypedDict):
    """Headline numbers over the range."""

    sessions: Count
    tool_calls: Count
    error_rate: Share
    unmet_demand_sessions: Count
    failed_searches: Count
    active_actors: Count


class TrendDay(TypedDict):
    """One UTC day touched by the range."""

    date: IsoDate
    sessions: Count
    tool_calls: Count
    errors: Count


class TopTopic(TypedDict):
    """A topic among the busiest of the range."""

    id: str
    label: str
    session_count: Count


class TopSearch(TypedDict):
    """A failed-search cluster among the most frequent of the range."""

    id: str
    query: str
    occurrences: Count


class Overview(TypedDict):
    """GET /insights/overview: headline numbers for one window."""

    range: Annotated[str, OneOf(tuple(INSIGHT_RANGES))]
    generated_at: datetime
    kpis: Kpis
    trend: list[TrendDay]
    top_topics: list[TopTopic]
    top_failed_searches: list[TopSearch]


class Topic(TypedDict):
    """A usage topic; counts depend on the range, sightings are null until a session."""

    id: str
    label: str
    is_unmet_demand: bool
    archived: bool
    session_count: Count
    tool_call_count: Count
    error_rate: Share
    frustration_score: Share
    trend: Annotated[float, Doc("Change in sessions against the previous window of the same length.")]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    sample_intents: list[str]


class SampleSession(TypedDict):
    """A session quoted as an example inside a topic or failed search."""

    id: str
    raw_intent: str | None
    last_event_at: datetime


class RelatedSearch(TypedDict):
    """A failed-search cluster raised in the topic's sessions."""

    id: str
    query: str


class TopicDetail(Topic):
    """GET /insights/topics/{id}: the topic plus sample sessions and related searches."""

    sample_sessions: list[SampleSession]
    related_searches: list[RelatedSearch]


class FailedSearch(TypedDict):
    """A failed-search cluster; counts depend on the range, sightings may be null."""

    id: str
    query: str
    suggested_gap: str
    occurrences: Count
    session_count: Count
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    example_queries: list[str]


class FailedSearchDetail(FailedSearch):
    """GET /insights/searches/{id}: the cluster plus sample sessions."""

    sample_sessions: list[SampleSession]


class Session(TypedDict):
    """A production MCP session seen by MCP Analytics; it grows until idle for 30 minutes."""

    id: str
    mcp_server_id: str
    session_key: str
    actor_id: str
    raw_intent: str | None
    client_name: str | None
    client_version: str | None
    topic_id: str | None
    event_count: Count
    ok_count: Count
    error_count: Count
    started_at: datetime
    last_event_at: datetime


class Event(TypedDict):
    """One event of a session trace."""

    event_id: str
    kind: Annotated[str, OneOf(EVENT_KINDS)]
    started_at: datetime
    finished_at: datetime | None
    duration_ms: Count | None
    ok: bool
    error: str | None
    metadata: Annotated[Opaque, Doc(
        "tool_name, user_intent, agent_thinking, user_frustration, input_preview, "
        "workflow_run_id and more; open-ended."
    )]
    result_preview: str | None
