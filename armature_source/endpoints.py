"""Every GET the source makes, stated once: its path, the query it sends, what it keys on.

The resources build their requests from these entries, and `armature-pipeline check` holds
the same entries against a host's live `/openapi` document, so what is checked is exactly what
is read (a test compares them with the simulator's request log of a whole load). Paths are
under the REST base; `{}` stands for an id, percent-encoded by `Endpoint.path`.
"""

from __future__ import annotations

from dataclasses import dataclass

from armature_source import tables as t
from armature_source.http.client import ArmatureClient


@dataclass(frozen=True)
class Endpoint:
    """One GET: the path template, the query parameters sent, the fields the source keys on,
    the table its records fill (`None` when they fill no table as served), whether the body is
    a list, the envelope keys to try first for that list, and the fields the source reads into
    other columns or tables (not undeclared, though no column has their name)."""

    template: str
    params: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    table: t.Table | None = None
    is_list: bool = True
    envelope: tuple[str, ...] = ()
    consumed: tuple[str, ...] = ()

    def path(self, *ids: object) -> str:
        """The path for these ids, each one percent-encoded into its own segment.

        A missing id is a caller's error, never a request: a record served without its key
        is a rejected record (`Table.keyed`), not something to ask the host for by id.
        """
        if any(i is None for i in ids):
            raise ValueError(f"{self.template}: an id is missing")
        parts = self.template.strip("/").split("/")
        filled = iter(ids)
        segments = [next(filled) if part == "{}" else part for part in parts]
        if next(filled, None) is not None:
            raise ValueError(f"{self.template} takes {parts.count('{}')} ids")
        return ArmatureClient.path(*segments)


ORG = Endpoint("/org", is_list=False)
MCP_SERVERS = Endpoint("/mcp-servers", keys=("id",), table=t.MCP_SERVERS, envelope=("mcp_servers",))
MCP_SERVER = Endpoint("/mcp-servers/{}", is_list=False)
WORKFLOWS = Endpoint("/workflows", keys=("id",), table=t.WORKFLOWS, envelope=("workflows",),
                     consumed=("current_version",))
WORKFLOW = Endpoint("/workflows/{}", is_list=False)
RUNS = Endpoint("/runs", ("range", "sort", "page", "pageSize"), ("id", "status", "started_at"),
                t.RUNS, envelope=("runs",))
RUN = Endpoint("/runs/{}", keys=("id", "status"), is_list=False)
RUN_TRACE = Endpoint("/runs/{}/trace", keys=("id",), table=t.TRACE_SPANS, envelope=("spans",))
RUN_TOOL_CALLS = Endpoint("/runs/{}/tool-calls", keys=("id",), table=t.TOOL_CALLS,
                          envelope=("tool_calls",))
RUN_EVALUATION = Endpoint("/runs/{}/evaluation", table=t.EVALUATIONS, is_list=False,
                          consumed=("criteria",))
OVERVIEW = Endpoint("/insights/overview", ("range",), is_list=False)
TOPICS = Endpoint("/insights/topics", ("range", "limit", "sort"), ("id",), t.TOPICS,
                  envelope=("topics", "clusters"))
SEARCHES = Endpoint("/insights/searches", ("range", "limit"), ("id",), t.FAILED_SEARCHES,
                    envelope=("failed_searches", "clusters"))
SESSIONS = Endpoint("/insights/sessions", ("range", "limit"), ("id", "last_event_at", "event_count"),
                    t.SESSIONS, envelope=("sessions",))
SESSION_TRACE = Endpoint("/insights/sessions/{}/trace", keys=("event_id",), table=t.SESSION_EVENTS,
                         envelope=("events",))

ALL: tuple[Endpoint, ...] = (
    ORG, MCP_SERVERS, MCP_SERVER, WORKFLOWS, WORKFLOW, RUNS, RUN, RUN_TRACE, RUN_TOOL_CALLS,
    RUN_EVALUATION, OVERVIEW, TOPICS, SEARCHES, SESSIONS, SESSION_TRACE,
)
