"""The bodies the HTTP layer wraps records in: list envelopes and paging, traces, the `/org`
answer, write acknowledgements and the error body.

Written like the records (`armature_sim.records`) and generated into the document the same
way. A list envelope marks its array `Listed`: a dialect may serve it under another key
(`alt`: `data`) and leave out members it does not serve (`alt`: `total`), as
`Dialect.listing` does on the wire. This module has no `from __future__ import annotations`.
"""

from typing import Annotated, Literal, NotRequired, TypedDict

from armature_sim.records import (
    Event,
    FailedSearch,
    McpServer,
    Organization,
    Run,
    Session,
    Span,
    ToolCall,
    Topic,
    Workflow,
)
from armature_sim.vocabulary import ROLES
from armature_sim.wire_types import Bounds, Count, Doc, Listed, OneOf, Opaque, PageCap


class ErrorDetail(TypedDict):
    """What failed (`code`, e.g. `validation_failed`, `not_found`) and why."""

    code: str
    message: str
    details: NotRequired[Annotated[Opaque, Doc("Which input failed, and why.")]]


class Error(TypedDict):
    """The error envelope every JSON error carries, in both dialects."""

    error: ErrorDetail


class Actor(TypedDict):
    """The API key that called, and its role."""

    apiKeyId: str
    apiKeyName: str
    userProfileId: str | None
    role: Annotated[str, OneOf(ROLES)]
    email: str | None


class OrgResponse(TypedDict):
    """GET /org: camelCase in both dialects, as Armature documents it."""

    organization: Organization
    actor: Actor


class RunTrace(TypedDict):
    """GET /runs/{id}/trace: the spans so far, in start order."""

    run_id: str
    spans: list[Span]


class McpServerList(TypedDict):
    """GET /mcp-servers: the production MCP sources."""

    rows: Annotated[list[McpServer], Listed()]


class WorkflowList(TypedDict):
    """GET /workflows: every workflow that is not archived."""

    rows: Annotated[list[Workflow], Listed()]


class RunPage(TypedDict):
    """GET /runs: one page of runs with its paging numbers."""

    rows: Annotated[list[Run], Listed()]
    page: Annotated[int, Bounds(minimum=1)]
    pageSize: Annotated[int, Bounds(minimum=1), PageCap(), Doc("The page size actually served.")]
    total: Annotated[Count, Doc("Runs matching the filters, on every page.")]


class ToolCallList(TypedDict):
    """GET /runs/{id}/tool-calls: the run's recorded tool calls, in order."""

    rows: Annotated[list[ToolCall], Listed()]


class TopicList(TypedDict):
    """GET /insights/topics: the topics active in the range, up to the limit."""

    rows: Annotated[list[Topic], Listed()]


class FailedSearchList(TypedDict):
    """GET /insights/searches: the failed-search clusters seen in the range, up to the limit."""

    rows: Annotated[list[FailedSearch], Listed()]


class SessionList(TypedDict):
    """GET /insights/sessions: newest last event first, up to the limit."""

    sessions: Annotated[list[Session], Listed()]


class SessionTrace(TypedDict):
    """GET /insights/sessions/{id}/trace: the session's events so far."""

    session_id: str
    events: Annotated[list[Event], Listed()]


class DispatchResponse(TypedDict):
    """POST /workflows/{id}/runs: the queued run (or the one the idempotency key started)."""

    run: Run


class OkResponse(TypedDict):
    """DELETE /workflows/{id}: the workflow is archived."""

    ok: Literal[True]
