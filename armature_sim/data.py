"""The simulator's world: a seeded organization, its runs and MCP usage, and a frozen clock.

Every value comes from a `random.Random` seeded with the world seed plus a label, so the same
options give the same world byte for byte. Runs and sessions arrive as numbered arrivals:
arrival `j` has a fixed time and a fixed plan, so the world at a given clock time does not
depend on how the clock got there (one advance of 60 minutes equals two of 30).

Writes through the API (new MCP sources and workflows, workflow edits and archives, dispatched
runs, topic edits) change the world too. Each write draws from a generator seeded with the
world seed and the write's number, so the same writes at the same clock times give the same
world; a reset drops them.

Only small plans are stored. A run's children (spans, tool calls, evaluation) and a session's
events are derived on demand from their own seed; what the API shows of them is the part whose
time has come. Inside the world times are integer milliseconds since the epoch; records hand
out aware `datetime`s and leave the wire format to the app's dialect.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from armature_sim import records
from armature_sim.vocabulary import (
    DAY,
    HOUR,
    INSIGHT_RANGES,
    LISTED_ENVIRONMENT,
    MINUTE,
    RUNS_WINDOW,
    SEARCH_LIMIT,
    SECOND,
    SESSION_HISTORY,
    SESSION_IDLE,
    SESSION_LIMIT,
    TOPIC_LIMIT,
    UNJUDGED_ENDS,
    VERDICTS,
    WorldOptions,
)
from armature_sim.writes import DispatchDraft, ServerDraft, TopicChanges, WorkflowChanges, WorkflowDraft

KIB = 1024

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# version nibble 4 and RFC 4122 variant bits, as uuid.UUID(int=..., version=4) sets them
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
_T = TypeVar("_T")


def instant(ms: int) -> datetime:
    """Turn world milliseconds into an aware UTC datetime (exact to the millisecond)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def millis(moment: datetime) -> int:
    """Turn an aware datetime into world milliseconds."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def seeded(seed: int, *labels: object) -> random.Random:
    """Return a generator private to one part of the world (string seeds hash the same everywhere)."""
    return random.Random(":".join(str(part) for part in (seed, *labels)))


def seeded_uuid(rng: random.Random) -> str:
    """Draw a version-4 UUID from `rng`, never from the OS (same text as `uuid.UUID(version=4)`)."""
    bits = rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]; several times cheaper than `randint` on the hot paths."""
    return low + int(rng.random() * (high - low + 1))


def sha256_hex(text: str) -> str:
    """Hash the way Armature's SDK derives actor and event ids."""
    return hashlib.sha256(text.encode()).hexdigest()


# ---- the catalog: what the organization has set up ----

_ORGANIZATIONS = (
    ("Acme Robotics", "acme-robotics"),
    ("Northwind Labs", "northwind-labs"),
    ("Globex Platform", "globex-platform"),
)
_TESTER_MODELS = ("claude-sonnet-4-5", "gpt-5-mini", "gemini-2.5-pro", "claude-haiku-4-5")
_JUDGE_MODELS = ("claude-opus-4-1", "gpt-5")
_CRONS = ("*/15 * * * *", "*/30 * * * *", "0 * * * *", "0 9 * * *")
_TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York")

_SERVERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Production GitHub MCP",
        "transport_type": "streamable_http",
        "target_kind": "mcp",
        "base_url": "https://github-mcp.example.com/mcp",
        "categories": ["dev-tools"],
        "tools": (
            ("search_issues", "Search issues by text, label or state"),
            ("get_issue", "Fetch one issue with its comments"),
            ("create_issue", "Open a new issue"),
            ("list_pull_requests", "List pull requests of a repository"),
            ("create_pull_request", "Open a pull request from a branch"),
            ("get_file_contents", "Read a file at a ref"),
            ("search_code", "Search code across repositories"),
            ("list_commits", "List commits of a branch"),
        ),
        "objects": ("issues", "pull requests", "commits", "releases", "code owners", "branches"),
        "workflows": (
            ("Search returns recent issues", "Searching for open bugs returns this week's issues."),
            ("Triage new bug reports", "New bug reports get a label and an owner."),
            ("Open a pull request from a branch", "A branch becomes a pull request with a summary."),
            ("Summarize last week's commits", "Commits of the last week are summarized per area."),
        ),
    },
    {
        "name": "Billing Ledger MCP",
        "transport_type": "sse",
        "target_kind": "mcp",
        "base_url": "https://billing-mcp.example.com/sse",
        "categories": ["finance", "billing"],
        "tools": (
            ("search_customers", "Find customers by name, email or id"),
            ("get_invoice", "Fetch one invoice with its lines"),
            ("list_invoices", "List invoices of a customer"),
            ("refund_payment", "Refund a payment in full or in part"),
            ("get_subscription", "Fetch a subscription and its plan"),
            ("list_transactions", "List ledger transactions in a period"),
        ),
        "objects": ("invoices", "refunds", "subscriptions", "payouts", "tax ids"),
        "workflows": (
            ("Find an invoice by customer", "The agent finds the latest invoice of a named customer."),
            ("Refund a duplicate charge", "A duplicate charge is found and refunded once."),
            ("Explain a subscription change", "A plan change is explained with prorated amounts."),
            ("Monthly revenue lookup", "Revenue of last month is reported from the ledger."),
        ),
    },
    {
        "name": "Support Desk CLI",
        "transport_type": "stdio_hosted",
        "target_kind": "cli",
        "base_url": None,
        "categories": ["support"],
        "tools": (
            ("search_tickets", "Search tickets by text or requester"),
            ("get_ticket", "Fetch one ticket with its thread"),
            ("reply_ticket", "Post a reply on a ticket"),
            ("escalate_ticket", "Escalate a ticket to on-call"),
            ("list_macros", "List reply macros"),
            ("search_kb", "Search knowledge-base articles"),
        ),
        "objects": ("tickets", "macros", "kb articles", "escalations", "slas"),
        "workflows": (
            ("Answer a password reset ticket", "A reset request gets the right macro and a reply."),
            ("Escalate an outage report", "An outage report is escalated with the facts on-call needs."),
            ("Find a KB article", "A how-to question is answered with a KB link."),
            ("Close resolved tickets", "Tickets confirmed solved are closed with a note."),
        ),
    },
)
_CRITERIA = (
    "Calls a search tool before answering",
    "The answer cites the record id it relied on",
    "Does not invent data the tools did not return",
    "Finishes within ten tool calls",
    "Asks for confirmation before any write",
    "The final answer is under 200 words",
    "Handles an empty result without retry loops",
    "Uses the customer's own wording in the summary",
)
_VERBS = ("find", "summarize", "update", "export", "compare", "close", "bulk edit", "schedule")
_QUALIFIERS = (
    "for the acme account",
    "from last week",
    "with label p1",
    "for customer 4411",
    "created today",
    "in the eu region",
    "older than 30 days",
    "assigned to me",
    "that mention timeouts",
    "for the q3 review",
)
_GAP_EXTRAS = ("as csv", "by date range", "across all workspaces", "with custom fields", "in bulk")
_CLIENTS = (
    ("claude-desktop", "0.14.2"),
    ("cursor", "1.7.0"),
    ("vscode-copilot", "1.104.0"),
    ("goose", "1.9.0"),
    ("armature-harness", "2.3.1"),
)
_FRUSTRATION = ("low", "medium", "high")
# what a newly registered source's probe is taken to have found
_PROBED_TOOLS = (
    ("search", "Search records by text"),
    ("get_record", "Fetch one record by id"),
    ("list_records", "List records with filters"),
    ("create_record", "Create a record"),
)
_MEETS = {"pass": "meets", "fail": "does not meet", "skipped": "does not show"}
_REASONS_MANUAL = (
    "Verify fix for flaky search",
    "Re-run after deploy",
    "Check regression from yesterday",
    "Compare with new tester model",
    "Reproduce customer report",
)
_TOOL_ERRORS = (
    "upstream returned 502",
    "tool timed out after 30s",
    "invalid argument: limit must be <= 100",
    "permission denied for resource",
)
_WORDS = (
    "agent tool call result search issue invoice ticket customer latency timeout retry page "
    "cursor token model judge criterion verdict span trace session intent topic cluster gap "
    "export import schema record field value error warning status pending running pass fail "
    "partial branch commit release refund payout subscription plan ledger period region label "
    "owner summary answer question request response header body payload limit offset window "
    "metric count rate score sample example query filter sort order newest oldest archive "
    "restore webhook queue worker shard replica index cache miss hit cold warm deploy rollback"
).split()


@dataclass
class Organization:
    """The one organization the keys belong to."""

    id: str
    slug: str
    name: str


@dataclass
class McpServer:
    """An MCP source; a mutable record so that later writes can edit it."""

    id: str
    name: str
    transport_type: str
    target_kind: str
    base_url: str | None
    categories: list[str]
    environment: str
    created_ms: int
    updated_ms: int
    tools: list[tuple[str, str]]
    objects: tuple[str, ...]


@dataclass
class Criterion:
    """One thing the judge checks for every run of a workflow version."""

    id: str
    text: str
    is_required: bool


@dataclass
class WorkflowVersion:
    """An immutable version; runs point at the version active at dispatch."""

    id: str
    number: int
    created_ms: int
    criteria: list[Criterion]
    tester_prompt: str | None = None


@dataclass
class Workflow:
    """A workflow; every edit appends a version, archiving sets `archived_ms` and the state."""

    id: str
    name: str
    description: str
    server: McpServer
    state: str
    categories: list[str]
    schedule: records.Schedule | None
    tester_model_ids: list[str]
    judge_model: str
    versions: list[WorkflowVersion]
    created_ms: int
    updated_ms: int
    weight: float
    pass_rate: float
    archived_ms: int | None = None

    @property
    def current(self) -> WorkflowVersion:
        """The version new runs are dispatched with."""
        return self.versions[-1]

    @property
    def live(self) -> bool:
        """Whether `GET /workflows` lists it (archived workflows are only served by id)."""
        return self.state != "archived"

    @property
    def manual_only(self) -> bool:
        """Whether only manual runs happen (paused, or no schedule)."""
        return self.state == "paused" or self.schedule is None

    @property
    def stream_weight(self) -> float:
        """How often the run stream picks it: never once archived, rarely when manual-only."""
        if not self.live:
            return 0.0
        return min(self.weight, 0.2) if self.manual_only else self.weight


@dataclass
class Topic:
    """A cluster of usage intents; label and flags are editable by users."""

    id: str
    label: str
    verb: str
    obj: str
    server: McpServer
    is_unmet_demand: bool
    archived: bool
    weight: float
    error_bias: float
    frustration_bias: float
    sample_intents: list[str]


@dataclass
class FailedSearch:
    """A failed-search cluster; `hits` are (event time, session arrival, session id) in time order."""

    id: str
    query: str
    suggested_gap: str
    example_queries: list[str]
    topic: Topic
    hits: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(slots=True)
class RunPlan:
    """Everything stored about a run: its whole life is fixed at arrival.

    `arrival` is the run stream's number, or `dispatch-N` for the Nth run dispatched through
    the API; it seeds the run's children. The MCP source is the workflow's at arrival, so a
    later edit of the workflow does not rewrite its runs.
    """

    arrival: int | str
    id: str
    workflow: Workflow
    workflow_name: str
    version: WorkflowVersion
    server: McpServer
    started_ms: int
    running_ms: int
    ended_ms: int
    outcome: str
    classification: str
    trigger: str
    model: str
    cost_usd: float
    spans: int
    tool_calls: int
    baseline_run_id: str | None
    reason: str

    def is_open(self, now: int) -> bool:
        """Whether the run is still pending or running at `now`."""
        return now < self.ended_ms

    def status_at(self, now: int) -> str:
        """The status the API shows at `now`."""
        if now < self.running_ms:
            return "pending"
        if now < self.ended_ms:
            return "running"
        return self.outcome

    @property
    def evaluated(self) -> bool:
        """Whether the judge ran (error and timed_out runs have no evaluation)."""
        return self.outcome in VERDICTS


@dataclass(slots=True)
class SessionPlan:
    """A session's whole planned life; the API shows the events whose time has come."""

    arrival: int
    id: str
    session_key: str
    actor_id: str
    raw_intent: str
    client_name: str
    client_version: str
    topic: Topic
    frustration: str
    event_ms: list[int]
    errors_before: list[int]
    first_tool: int
    searches: dict[int, FailedSearch]

    def visible(self, now: int) -> int:
        """How many events have happened by `now`."""
        return bisect.bisect_right(self.event_ms, now)

    def tool_calls_between(self, lo: int, hi: int) -> int:
        """Tool-call events among events `lo` to `hi - 1`."""
        return max(0, hi - max(lo, self.first_tool))


@dataclass
class RunChildren:
    """A run's spans and tool calls as they are once it is terminal, with start times for prefixes."""

    spans: list[records.Span]
    span_starts: list[int]
    tool_calls: list[records.ToolCall]
    call_starts: list[int]


@dataclass
class AdvanceReport:
    """What moving the clock did."""

    now: datetime
    new_runs: int
    ended_runs: int
    new_sessions: int
    grown_sessions: int


@dataclass
class RangeStats:
    """Insights counts over one range at the current clock."""

    sessions: list[SessionPlan]
    topic_sessions: dict[str, int]
    topic_tool_calls: dict[str, int]
    topic_errors: dict[str, int]
    topic_frustration: dict[str, float]
    topic_previous: dict[str, int]
    tool_calls: int
    errors: int
    actors: int


# ---- arrivals: when runs and sessions happen ----


@dataclass(frozen=True)
class Arrivals:
    """Times of a stream's arrivals: a backlog up to the start, then a jittered grid.

    The backlog has `count` arrivals spread over `span_ms` before `start_ms`, `recent` of them
    inside the last `recent_ms` (the newest in the last minute) so that a fresh world has work
    in flight. After the start,
    arrival `j` (from 1) falls at `start + (j - 1 + u_j) * gap` with `u_j` drawn from its own
    seed, which makes the times independent of how the clock is advanced.
    """

    seed: int
    label: str
    count: int
    span_ms: int
    recent: int
    recent_ms: int
    start_ms: int

    @property
    def gap(self) -> float:
        """Average time between arrivals."""
        return self.span_ms / self.count

    def backlog(self) -> list[tuple[int, int]]:
        """(arrival, time) of the arrivals up to the start, oldest first, arrivals numbered <= 0."""
        rng = seeded(self.seed, self.label, "backlog")
        older = self.count - self.recent
        width = (self.span_ms - self.recent_ms) / max(older, 1)
        first = self.start_ms - self.span_ms
        times = [int(first + (i + rng.random()) * width) for i in range(older)]
        recent_from = self.start_ms - self.recent_ms
        recent = [int(recent_from + rng.random() * self.recent_ms) for _ in range(self.recent - 1)]
        if self.recent:
            # the newest within the last minute, so a fresh world always has work in flight
            recent.append(self.start_ms - int(rng.random() * MINUTE))
        times += sorted(recent)
        return [(i - len(times) + 1, at) for i, at in enumerate(times)]

    def between(self, after: int, until: int) -> list[tuple[int, int]]:
        """(arrival, time) of the arrivals with `after < time <= until`, in order."""
        if self.count == 0:
            return []
        first = max(1, int((after - self.start_ms) / self.gap))
        last = int((until - self.start_ms) / self.gap) + 1
        found = []
        for j in range(first, last + 1):
            at = int(self.start_ms + (j - 1 + seeded(self.seed, self.label, j).random()) * self.gap)
            if after < at <= until:
                found.append((j, at))
        return found


# ---- the world ----


class World:
    """The seeded world and its clock; the app reads it, `/_sim` moves it."""

    def __init__(self, options: WorldOptions) -> None:
        self.options = options
        self.seed = options.seed
        self.now_ms = millis(options.now)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._children: OrderedDict[int | str, RunChildren] = OrderedDict()
        self.text = _text_block(seeded(self.seed, "text"))
        catalog = seeded(self.seed, "catalog")
        self.organization = _organization(catalog)
        self.mcp_servers = _servers(catalog, self.now_ms)
        self.workflows = _workflows(catalog, self.mcp_servers, self.now_ms)
        self.topics = _topics(catalog, self.mcp_servers)
        self.failed_searches = _failed_searches(catalog, self.topics)
        self.actors = [sha256_hex(f"actor:{self.seed}:{i}") for i in range(max(5, options.sessions // 6))]
        self.runs: list[RunPlan] = []
        self.run_starts: list[int] = []
        self.runs_by_id: dict[str, RunPlan] = {}
        self._last_run_of: dict[str, str] = {}
        self.sessions: list[SessionPlan] = []
        self.sessions_by_id: dict[str, SessionPlan] = {}
        self.writes = 0
        self.dispatched: list[RunPlan] = []
        self._dispatch_keys: dict[tuple[str, str], RunPlan] = {}
        self.run_arrivals = Arrivals(
            self.seed, "runs", options.runs, options.days * DAY,
            min(options.runs, max(4, options.runs // 250)), 15 * MINUTE, self.now_ms,
        )
        self.session_arrivals = Arrivals(
            self.seed, "sessions", options.sessions, SESSION_HISTORY,
            min(options.sessions, max(3, options.sessions // 100)), 45 * MINUTE, self.now_ms,
        )
        for arrival, at in self.run_arrivals.backlog():
            self._add_run(arrival, at)
        for arrival, at in self.session_arrivals.backlog():
            self._add_session(arrival, at)

    # -- the clock --

    def advance(self, ms: int) -> AdvanceReport:
        """Move the clock `ms` forward: runs arrive and end, sessions arrive and grow."""
        before, after = self.now_ms, self.now_ms + ms
        open_runs = self.open_runs()
        growing = [(s, s.visible(before)) for s in self.sessions if s.event_ms[-1] > before]
        self.now_ms = after
        self._cache.clear()
        new_runs = [plan for j, at in self.run_arrivals.between(before, after) if (plan := self._add_run(j, at))]
        new_sessions = [self._add_session(j, at) for j, at in self.session_arrivals.between(before, after)]
        return AdvanceReport(
            now=instant(after),
            new_runs=len(new_runs),
            ended_runs=sum(1 for plan in open_runs if not plan.is_open(after)),
            new_sessions=len(new_sessions),
            grown_sessions=sum(1 for s, seen in growing if s.visible(after) > seen),
        )

    @property
    def now(self) -> datetime:
        """The simulated now."""
        return instant(self.now_ms)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        """Answer from a cache that lives until the clock moves."""
        if key not in self._cache:
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = compute()
        return self._cache[key]  # type: ignore[no-any-return]

    # -- the catalog --

    def server_record(self, server: McpServer) -> records.McpServer:
        """An MCP source as `/mcp-servers` lists it."""
        return {
            "id": server.id,
            "name": server.name,
            "transport_type": server.transport_type,
            "target_kind": server.target_kind,
            "base_url": server.base_url,
            "categories": list(server.categories),
            "environment": server.environment,
            "created_at": instant(server.created_ms),
            "updated_at": instant(server.updated_ms),
        }

    def server_detail(self, server: McpServer) -> dict[str, Any]:
        """An MCP source plus its tool catalog."""
        detail: dict[str, Any] = dict(self.server_record(server))
        detail["tools"] = [{"name": name, "description": text} for name, text in server.tools]
        return detail

    def listed_servers(self) -> list[McpServer]:
        """The MCP sources `/mcp-servers` lists: production ones only, as documented."""
        return [server for server in self.mcp_servers if server.environment == LISTED_ENVIRONMENT]

    def listed_workflows(self) -> list[Workflow]:
        """The workflows `/workflows` lists: every one that is not archived."""
        return [workflow for workflow in self.workflows if workflow.live]

    def workflow_record(self, workflow: Workflow) -> records.Workflow:
        """A workflow with its current version's criteria; `archived_at` is null while live."""
        version = workflow.current
        return {
            "id": workflow.id,
            "name": workflow.name,
            "description": workflow.description,
            "mcp_server_id": workflow.server.id,
            "state": workflow.state,
            "categories": list(workflow.categories),
            "schedule": workflow.schedule.copy() if workflow.schedule else None,
            "tester_model_ids": list(workflow.tester_model_ids),
            "criteria": [{"id": c.id, "text": c.text, "is_required": c.is_required} for c in version.criteria],
            "current_version": {"id": version.id, "number": version.number, "created_at": instant(version.created_ms)},
            "created_at": instant(workflow.created_ms),
            "updated_at": instant(workflow.updated_ms),
            "archived_at": instant(workflow.archived_ms) if workflow.archived_ms is not None else None,
        }

    # -- runs --

    def _add_run(self, arrival: int, started_ms: int) -> RunPlan | None:
        """Plan arrival `arrival` of the run stream and append it (arrivals come in time order).

        None when every workflow is archived: the stream has nothing left to run.
        """
        rng = seeded(self.seed, "run", arrival)
        weights = [w.stream_weight for w in self.workflows]
        if not any(weights):
            return None
        workflow = rng.choices(self.workflows, weights=weights)[0]
        return self._append_run(_plan_run(rng, arrival, started_ms, workflow, self._last_run_of))

    def _append_run(self, plan: RunPlan) -> RunPlan:
        """Append a planned run; it starts no earlier than every run before it."""
        self._last_run_of[plan.workflow.id] = plan.id
        self.runs.append(plan)
        self.run_starts.append(plan.started_ms)
        self.runs_by_id[plan.id] = plan
        return plan

    def open_runs(self) -> list[RunPlan]:
        """Runs still pending or running, oldest first."""
        return [plan for plan in self.runs if plan.is_open(self.now_ms)]

    def runs_since(self, range_ms: int) -> list[RunPlan]:
        """Runs that started inside the rolling window, oldest first."""
        return self.runs[bisect.bisect_right(self.run_starts, self.now_ms - range_ms):]

    def list_runs(
        self,
        range_ms: int,
        workflow_id: str | None = None,
        status: str | None = None,
        classification: str | None = None,
        search: str | None = None,
        newest_first: bool = True,
    ) -> list[RunPlan]:
        """The runs `/runs` lists for these filters, in the order asked."""
        key = ("runs", range_ms, workflow_id, status, classification, search, newest_first)
        return self._cached(
            key, lambda: self._select_runs(range_ms, workflow_id, status, classification, search, newest_first)
        )

    def _select_runs(
        self,
        range_ms: int,
        workflow_id: str | None,
        status: str | None,
        classification: str | None,
        search: str | None,
        newest_first: bool,
    ) -> list[RunPlan]:
        """Filter the window's runs (uncached)."""
        now = self.now_ms
        needle = search.casefold() if search else None
        chosen = [
            plan
            for plan in self.runs_since(range_ms)
            if (workflow_id is None or plan.workflow.id == workflow_id)
            and (status is None or plan.status_at(now) == status)
            and (classification is None or (not plan.is_open(now) and plan.classification == classification))
            and (needle is None or needle in plan.workflow_name.casefold() or needle in plan.reason.casefold())
        ]
        return chosen[::-1] if newest_first else chosen

    def run_record(self, plan: RunPlan) -> records.Run:
        """A run as `/runs` shows it now."""
        now = self.now_ms
        terminal = not plan.is_open(now)
        return {
            "id": plan.id,
            "workflow_id": plan.workflow.id,
            "workflow_name": plan.workflow_name,
            "workflow_version_id": plan.version.id,
            "mcp_server_id": plan.server.id,
            "status": plan.status_at(now),
            "classification": plan.classification if terminal else None,
            "trigger": plan.trigger,
            "model": plan.model,
            "started_at": instant(plan.started_ms),
            "ended_at": instant(plan.ended_ms) if terminal else None,
            "duration_ms": plan.ended_ms - plan.started_ms if terminal else None,
            "cost_usd": plan.cost_usd if terminal else None,
            "tool_call_count": plan.tool_calls if terminal else len(self.tool_calls(plan)),
            "baseline_run_id": plan.baseline_run_id,
            "reason": plan.reason,
        }

    def run_detail(self, plan: RunPlan) -> dict[str, Any]:
        """A run plus its judge and the evaluator's output (null until terminal)."""
        detail: dict[str, Any] = dict(self.run_record(plan))
        terminal = not plan.is_open(self.now_ms)
        evaluation = self.evaluation(plan)
        detail["judge_model"] = plan.workflow.judge_model if terminal else None
        detail["evaluator_output"] = (
            {"verdict": evaluation["verdict"], "summary": evaluation["summary"]} if evaluation else None
        )
        return detail

    def children(self, plan: RunPlan) -> RunChildren:
        """The run's terminal spans and tool calls (a few kept: a loader asks for both in a row)."""
        found = self._children.get(plan.arrival)
        if found is None:
            found = _run_children(seeded(self.seed, "children", plan.arrival), plan, self.text)
            self._children[plan.arrival] = found
            if len(self._children) > 256:
                self._children.popitem(last=False)
        return found

    def trace(self, plan: RunPlan) -> list[records.Span]:
        """The spans shown now: all of them once terminal, the started prefix before."""
        kids = self.children(plan)
        return kids.spans[: bisect.bisect_right(kids.span_starts, self.now_ms)]

    def tool_calls(self, plan: RunPlan) -> list[records.ToolCall]:
        """The tool calls shown now: all of them once terminal, the started prefix before."""
        if self.now_ms < plan.running_ms:
            return []
        kids = self.children(plan)
        return kids.tool_calls[: bisect.bisect_right(kids.call_starts, self.now_ms)]

    def evaluation(self, plan: RunPlan) -> records.Evaluation | None:
        """The evaluation, or None while open and for error/timed_out runs.

        It has a seed of its own, so run detail can show the verdict without deriving spans.
        """
        if plan.is_open(self.now_ms) or not plan.evaluated:
            return None
        return _evaluation(seeded(self.seed, "evaluation", plan.arrival), plan, self.text)

    # -- sessions and insights --

    def _add_session(self, arrival: int, started_ms: int) -> SessionPlan:
        """Plan arrival `arrival` of the session stream and append it."""
        plan = _plan_session(seeded(self.seed, "session", arrival), arrival, started_ms, self)
        self.sessions.append(plan)
        self.sessions_by_id[plan.id] = plan
        for index, search in plan.searches.items():
            bisect.insort(search.hits, (plan.event_ms[index], arrival, plan.id))
        return plan

    def _session_view(self) -> list[tuple[SessionPlan, int]]:
        """Every session with its visible event count, newest last event first."""
        def compute() -> list[tuple[SessionPlan, int]]:
            now = self.now_ms
            view = [(s, s.visible(now)) for s in self.sessions]
            view = [(s, n) for s, n in view if n]
            view.sort(key=lambda item: (item[0].event_ms[item[1] - 1], item[0].id), reverse=True)
            return view

        return self._cached(("session-view",), compute)

    def session_record(self, plan: SessionPlan, seen: int | None = None) -> records.Session:
        """A session as the sessions list shows it now."""
        n = plan.visible(self.now_ms) if seen is None else seen
        errors = plan.errors_before[n]
        return {
            "id": plan.id,
            "mcp_server_id": plan.topic.server.id,
            "session_key": plan.session_key,
            "actor_id": plan.actor_id,
            "raw_intent": plan.raw_intent,
            "client_name": plan.client_name,
            "client_version": plan.client_version,
            "topic_id": plan.topic.id,
            "event_count": n,
            "ok_count": n - errors,
            "error_count": errors,
            "started_at": instant(plan.event_ms[0]),
            "last_event_at": instant(plan.event_ms[n - 1]),
        }

    def list_sessions(
        self, range_ms: int, intent: str | None = None, limit: int | None = None
    ) -> list[tuple[SessionPlan, int]]:
        """Sessions whose last event is inside the range, newest first, optionally by intent."""
        since = self.now_ms - range_ms
        needle = intent.casefold() if intent else None
        found: list[tuple[SessionPlan, int]] = []
        for plan, n in self._session_view():
            if plan.event_ms[n - 1] <= since or len(found) == limit:
                break
            if needle is None or needle in plan.raw_intent.casefold():
                found.append((plan, n))
        return found

    def session_events(self, plan: SessionPlan) -> list[records.Event]:
        """The session's events so far (a stable prefix of its planned events)."""
        n = plan.visible(self.now_ms)
        return _session_events(seeded(self.seed, "events", plan.arrival), plan, self.text, n)

    def range_stats(self, range_ms: int) -> RangeStats:
        """Insights counts over the range, cached until the clock moves."""
        return self._cached(("range-stats", range_ms), lambda: _range_stats(self, range_ms))

    def topic_record(self, topic: Topic, range_ms: int) -> records.Topic:
        """A topic with its counts over the range."""
        stats = self.range_stats(range_ms)
        first, last = self._topic_seen().get(topic.id, (None, None))
        sessions = stats.topic_sessions.get(topic.id, 0)
        calls = stats.topic_tool_calls.get(topic.id, 0)
        previous = stats.topic_previous.get(topic.id, 0)
        return {
            "id": topic.id,
            "label": topic.label,
            "is_unmet_demand": topic.is_unmet_demand,
            "archived": topic.archived,
            "session_count": sessions,
            "tool_call_count": calls,
            "error_rate": round(stats.topic_errors.get(topic.id, 0) / calls, 4) if calls else 0.0,
            "frustration_score": round(stats.topic_frustration.get(topic.id, 0.0) / sessions, 3) if sessions else 0.0,
            "trend": round((sessions - previous) / max(previous, 1), 3),
            "first_seen_at": instant(first) if first is not None else None,
            "last_seen_at": instant(last) if last is not None else None,
            "sample_intents": list(topic.sample_intents),
        }

    def _topic_seen(self) -> dict[str, tuple[int, int]]:
        """(first event, last event) per topic over all sessions so far."""
        def compute() -> dict[str, tuple[int, int]]:
            seen: dict[str, tuple[int, int]] = {}
            for plan, n in self._session_view():
                first, last = plan.event_ms[0], plan.event_ms[n - 1]
                old = seen.get(plan.topic.id)
                seen[plan.topic.id] = (min(old[0], first), max(old[1], last)) if old else (first, last)
            return seen

        return self._cached(("topic-seen",), compute)

    def list_topics(self, range_ms: int, sort: str = "volume") -> list[records.Topic]:
        """Topics with at least one session in the range, in the order asked."""
        stats = self.range_stats(range_ms)
        rows = [self.topic_record(t, range_ms) for t in self.topics if stats.topic_sessions.get(t.id)]
        keys: dict[str, Callable[[records.Topic], tuple[Any, ...]]] = {
            "volume": lambda r: (-r["session_count"], r["id"]),
            "frustration": lambda r: (-r["frustration_score"], -r["session_count"], r["id"]),
            "trend": lambda r: (-r["trend"], -r["session_count"], r["id"]),
        }
        return sorted(rows, key=keys[sort])

    def search_record(self, search: FailedSearch, range_ms: int) -> records.FailedSearch:
        """A failed-search cluster with its counts over the range."""
        now = self.now_ms
        visible = search.hits[: bisect.bisect_right(search.hits, (now, float("inf")))]
        inside = visible[bisect.bisect_right(visible, (now - range_ms, float("inf"))):]
        return {
            "id": search.id,
            "query": search.query,
            "suggested_gap": search.suggested_gap,
            "occurrences": len(inside),
            "session_count": len({arrival for _, arrival, _ in inside}),
            "first_seen_at": instant(visible[0][0]) if visible else None,
            "last_seen_at": instant(visible[-1][0]) if visible else None,
            "example_queries": list(search.example_queries),
        }

    def list_failed_searches(self, range_ms: int) -> list[records.FailedSearch]:
        """Clusters with at least one occurrence in the range, most occurrences first."""
        rows = [self.search_record(s, range_ms) for s in self.failed_searches]
        rows = [r for r in rows if r["occurrences"]]
        return sorted(rows, key=lambda r: (-r["occurrences"], r["id"]))

    def sample_sessions(self, plans: list[SessionPlan], count: int = 5) -> list[dict[str, Any]]:
        """The newest few of `plans` as {id, raw_intent, last_event_at}."""
        now = self.now_ms
        shown = [(p, p.visible(now)) for p in plans]
        shown = sorted(((p, n) for p, n in shown if n), key=lambda item: item[0].event_ms[item[1] - 1], reverse=True)
        return [
            {"id": p.id, "raw_intent": p.raw_intent, "last_event_at": instant(p.event_ms[n - 1])}
            for p, n in shown[:count]
        ]

    def topic_detail(self, topic: Topic, range_ms: int) -> dict[str, Any]:
        """A topic plus its newest sessions and the failed searches raised in it."""
        recent = [p for p, _ in self._session_view() if p.topic is topic][:5]
        detail: dict[str, Any] = dict(self.topic_record(topic, range_ms))
        detail["sample_sessions"] = self.sample_sessions(recent)
        detail["related_searches"] = [
            {"id": s.id, "query": s.query} for s in self.failed_searches if s.topic is topic
        ]
        return detail

    def search_detail(self, search: FailedSearch, range_ms: int) -> dict[str, Any]:
        """A failed-search cluster plus the newest sessions it happened in."""
        visible = search.hits[: bisect.bisect_right(search.hits, (self.now_ms, float("inf")))]
        newest = list(dict.fromkeys(session_id for _, _, session_id in reversed(visible)))[:5]
        plans = [self.sessions_by_id[session_id] for session_id in newest]
        detail: dict[str, Any] = dict(self.search_record(search, range_ms))
        detail["sample_sessions"] = self.sample_sessions(plans)
        return detail

    def overview(self, range_name: str) -> dict[str, Any]:
        """Headline KPIs, a daily trend and the top topics and searches over the range."""
        range_ms = INSIGHT_RANGES[range_name]
        stats = self.range_stats(range_ms)
        searches = self.list_failed_searches(range_ms)
        return {
            "range": range_name,
            "generated_at": self.now,
            "kpis": {
                "sessions": len(stats.sessions),
                "tool_calls": stats.tool_calls,
                "error_rate": round(stats.errors / stats.tool_calls, 4) if stats.tool_calls else 0.0,
                "unmet_demand_sessions": sum(1 for s in stats.sessions if s.topic.is_unmet_demand),
                "failed_searches": sum(r["occurrences"] for r in searches),
                "active_actors": stats.actors,
            },
            "trend": self._daily_trend(range_ms),
            "top_topics": [
                {"id": r["id"], "label": r["label"], "session_count": r["session_count"]}
                for r in self.list_topics(range_ms)[:5]
            ],
            "top_failed_searches": [
                {"id": r["id"], "query": r["query"], "occurrences": r["occurrences"]} for r in searches[:5]
            ],
        }

    def _daily_trend(self, range_ms: int) -> list[dict[str, Any]]:
        """Sessions, tool calls and errors per UTC day touched by the range."""
        now, since = self.now_ms, self.now_ms - range_ms
        days: dict[int, list[Any]] = {
            day: [set(), 0, 0] for day in range(since // DAY, now // DAY + 1)
        }
        for plan in self.range_stats(range_ms).sessions:
            n = plan.visible(now)
            for index in range(bisect.bisect_right(plan.event_ms, since), n):
                bucket = days[plan.event_ms[index] // DAY]
                bucket[0].add(plan.arrival)
                if index >= plan.first_tool:
                    bucket[1] += 1
                    bucket[2] += plan.errors_before[index + 1] - plan.errors_before[index]
        return [
            {"date": instant(day * DAY).date().isoformat(), "sessions": len(b[0]), "tool_calls": b[1], "errors": b[2]}
            for day, b in sorted(days.items())
        ]

    # -- writes --

    def _write(self) -> random.Random:
        """Count a write and return its generator; cached answers may no longer hold."""
        self.writes += 1
        self._cache.clear()
        return seeded(self.seed, "write", self.writes)

    def create_server(self, draft: ServerDraft) -> McpServer:
        """Register an MCP source; its tool catalog is a generic one, as if probed."""
        rng = self._write()
        server = McpServer(
            id=seeded_uuid(rng),
            name=draft.name,
            transport_type=draft.transport_type,
            target_kind=draft.target_kind,
            base_url=draft.base_url,
            categories=[],
            environment=draft.environment,
            created_ms=self.now_ms,
            updated_ms=self.now_ms,
            tools=list(_PROBED_TOOLS),
            objects=(),
        )
        self.mcp_servers.append(server)
        return server

    def create_workflow(self, draft: WorkflowDraft, server: McpServer) -> Workflow:
        """Create an active workflow at version 1; a scheduled one joins the run stream."""
        rng = self._write()
        workflow_id = seeded_uuid(rng)
        version = WorkflowVersion(seeded_uuid(rng), 1, self.now_ms, _new_criteria(rng, draft.criteria),
                                  draft.tester_prompt)
        workflow = Workflow(
            id=workflow_id,
            name=draft.name,
            description=draft.description,
            server=server,
            state="active",
            categories=list(server.categories),
            schedule=draft.schedule,
            tester_model_ids=list(draft.tester_model_ids or _TESTER_MODELS[:1]),
            judge_model=rng.choice(_JUDGE_MODELS),
            versions=[version],
            created_ms=self.now_ms,
            updated_ms=self.now_ms,
            weight=rng.uniform(0.5, 2.0),
            pass_rate=rng.uniform(0.55, 0.92),
        )
        self.workflows.append(workflow)
        return workflow

    def update_workflow(self, workflow: Workflow, changes: WorkflowChanges, server: McpServer | None) -> None:
        """Apply a PATCH: every update writes a new version, even one that changes no criteria."""
        rng = self._write()
        current = workflow.current
        workflow.name = changes.get("name", workflow.name)
        workflow.description = changes.get("description", workflow.description)
        if server is not None:
            workflow.server = server
            workflow.categories = list(server.categories)
        workflow.tester_model_ids = list(changes.get("tester_model_ids", workflow.tester_model_ids))
        workflow.schedule = changes["schedule"] if "schedule" in changes else workflow.schedule
        workflow.state = changes.get("state", workflow.state)
        criteria = _new_criteria(rng, changes["criteria"]) if "criteria" in changes else list(current.criteria)
        prompt = changes.get("tester_prompt", current.tester_prompt)
        workflow.versions.append(WorkflowVersion(seeded_uuid(rng), current.number + 1, self.now_ms, criteria, prompt))
        workflow.updated_ms = self.now_ms

    def archive_workflow(self, workflow: Workflow) -> None:
        """Archive: out of the list and the run stream, still served by id; its runs stay."""
        if workflow.live:
            self._write()
            workflow.state = "archived"
            workflow.archived_ms = workflow.updated_ms = self.now_ms

    def dispatch(self, workflow: Workflow, draft: DispatchDraft) -> RunPlan:
        """Queue a run now, or return the run an idempotency key already started.

        With a key, the run id is the UUIDv5 of the key in the workflow id's namespace, and the
        same key returns that run until it is terminal. A later dispatch with the key (or one
        with `forceNewRun`) starts a new run whose id adds `#2`, `#3`, ... to the key.
        """
        key = draft.idempotency_key
        known = self._dispatch_keys.get((workflow.id, key)) if key is not None else None
        if known is not None and known.is_open(self.now_ms) and not draft.force_new_run:
            return known
        rng = self._write()
        plan = _plan_run(rng, f"dispatch-{len(self.dispatched) + 1}", self.now_ms, workflow, self._last_run_of)
        if key is not None:
            plan.id = self._key_run_id(workflow, key)
            self._dispatch_keys[(workflow.id, key)] = plan
        plan.trigger = "api"
        plan.model = workflow.tester_model_ids[0]
        plan.baseline_run_id = draft.baseline_run_id
        plan.reason = draft.reason or "Dispatched through the API"
        self.dispatched.append(plan)
        return self._append_run(plan)

    def _key_run_id(self, workflow: Workflow, key: str) -> str:
        """The first unused deterministic run id for an idempotency key."""
        namespace = uuid.UUID(workflow.id)
        run_id, generation = str(uuid.uuid5(namespace, key)), 1
        while run_id in self.runs_by_id:
            generation += 1
            run_id = str(uuid.uuid5(namespace, f"{key}#{generation}"))
        return run_id

    def edit_topic(self, topic: Topic, changes: TopicChanges) -> None:
        """Rename, flag or archive a topic; its counts and sessions stay as they are."""
        self._write()
        topic.label = changes.get("label", topic.label)
        topic.is_unmet_demand = changes.get("is_unmet_demand", topic.is_unmet_demand)
        topic.archived = changes.get("archived", topic.archived)

    # -- the ground truth --

    def counts(self) -> dict[str, int]:
        """How many of each entity the world holds now.

        MCP sources are the production ones the list serves; workflows include archived ones,
        which are still served by id.
        """
        return {
            "mcp_servers": len(self.listed_servers()),
            "workflows": len(self.workflows),
            "archived_workflows": sum(1 for w in self.workflows if not w.live),
            "runs": len(self.runs),
            "runs_in_window": len(self.runs_since(RUNS_WINDOW)),
            "open_runs": len(self.open_runs()),
            "sessions": len(self.sessions),
            "topics": len(self.topics),
            "failed_searches": len(self.failed_searches),
        }

    def truth(self) -> dict[str, Any]:
        """What the API serves now, for tests to compare with."""
        now = self.now_ms
        in_history = self.list_sessions(SESSION_HISTORY)
        return {
            "now": self.now,
            "organization": {
                "id": self.organization.id, "slug": self.organization.slug, "name": self.organization.name,
            },
            "mcp_servers": [s.id for s in self.listed_servers()],
            "workflows": [w.id for w in self.listed_workflows()],
            "workflow_records": [_workflow_truth(w) for w in self.workflows],
            "topics": [
                {"id": t.id, "label": t.label, "is_unmet_demand": t.is_unmet_demand, "archived": t.archived}
                for t in self.topics
            ],
            "dispatched_runs": [plan.id for plan in self.dispatched],
            "writes": self.writes,
            "counts": self.counts(),
            "runs_window_days": RUNS_WINDOW // DAY,
            "runs": [_run_truth(plan, now) for plan in self.list_runs(RUNS_WINDOW)],
            "open_runs": [plan.id for plan in self.open_runs()],
            "sessions": [
                {
                    "id": plan.id,
                    "started_at": instant(plan.event_ms[0]),
                    "last_event_at": instant(plan.event_ms[n - 1]),
                    "event_count": n,
                    "open": now - plan.event_ms[n - 1] < SESSION_IDLE,
                }
                for plan, n in in_history
            ],
            "session_list_limit": SESSION_LIMIT.cap,
            "sessions_listed": {
                name: [p.id for p, _ in self.list_sessions(ms, limit=SESSION_LIMIT.cap)]
                for name, ms in INSIGHT_RANGES.items()
            },
            "sessions_total": {name: len(self.list_sessions(ms)) for name, ms in INSIGHT_RANGES.items()},
            "topics_listed": {
                name: [r["id"] for r in self.list_topics(ms)[:TOPIC_LIMIT.cap]]
                for name, ms in INSIGHT_RANGES.items()
            },
            "topics_total": {name: len(self.list_topics(ms)) for name, ms in INSIGHT_RANGES.items()},
            "failed_searches_listed": {
                name: [r["id"] for r in self.list_failed_searches(ms)[:SEARCH_LIMIT.cap]]
                for name, ms in INSIGHT_RANGES.items()
            },
            "failed_searches_total": {
                name: len(self.list_failed_searches(ms)) for name, ms in INSIGHT_RANGES.items()
            },
        }


def _workflow_truth(workflow: Workflow) -> dict[str, Any]:
    """One workflow's line in the truth, archived ones included."""
    return {
        "id": workflow.id,
        "name": workflow.name,
        "state": workflow.state,
        "archived_at": instant(workflow.archived_ms) if workflow.archived_ms is not None else None,
        "mcp_server_id": workflow.server.id,
        "schedule": workflow.schedule.copy() if workflow.schedule else None,
        "current_version": {"id": workflow.current.id, "number": workflow.current.number},
        "versions": len(workflow.versions),
    }


def _new_criteria(rng: random.Random, criteria: tuple[tuple[str, bool], ...]) -> list[Criterion]:
    """Criteria written by a user, with fresh ids."""
    return [Criterion(seeded_uuid(rng), text, required) for text, required in criteria]


def _run_truth(plan: RunPlan, now: int) -> dict[str, Any]:
    """One run's line in the truth: what it is now and what its children will hold."""
    terminal = not plan.is_open(now)
    return {
        "id": plan.id,
        "workflow_id": plan.workflow.id,
        "status": plan.status_at(now),
        "classification": plan.classification if terminal else None,
        "started_at": instant(plan.started_ms),
        "terminal": terminal,
        "spans": plan.spans,
        "tool_calls": plan.tool_calls,
        "criteria": len(plan.version.criteria) if plan.evaluated else 0,
        "has_evaluation": terminal and plan.evaluated,
        "trigger": plan.trigger,
    }


# ---- building the catalog ----


def _text_block(rng: random.Random) -> str:
    """A 96 KiB block of seeded words; tool results are slices of it, so they cost nothing."""
    text = " ".join(rng.choices(_WORDS, k=20_000))
    return text[: 96 * KIB]


def _organization(rng: random.Random) -> Organization:
    """The organization behind every key."""
    name, slug = rng.choice(_ORGANIZATIONS)
    return Organization(id=seeded_uuid(rng), slug=slug, name=name)


def _servers(rng: random.Random, now_ms: int) -> list[McpServer]:
    """The three MCP sources, set up months before the world's start."""
    servers = []
    for spec in _SERVERS:
        created = now_ms - between(rng, 150, 300) * DAY
        servers.append(
            McpServer(
                id=seeded_uuid(rng),
                name=spec["name"],
                transport_type=spec["transport_type"],
                target_kind=spec["target_kind"],
                base_url=spec["base_url"],
                categories=list(spec["categories"]),
                environment=LISTED_ENVIRONMENT,
                created_ms=created,
                updated_ms=created + between(rng, 1, 100) * DAY,
                tools=list(spec["tools"]),
                objects=spec["objects"],
            )
        )
    return servers


def _workflows(rng: random.Random, servers: list[McpServer], now_ms: int) -> list[Workflow]:
    """Four workflows per server, two of them paused, each with 2-6 criteria."""
    workflows: list[Workflow] = []
    paused = set(rng.sample(range(len(_SERVERS) * 4), 2))
    for spec, server in zip(_SERVERS, servers, strict=True):
        for name, description in spec["workflows"]:
            index = len(workflows)
            created = server.created_ms + between(rng, 1, 60) * DAY
            version_ms = now_ms - between(rng, 40, 90) * DAY
            count = between(rng, 2, 6)
            criteria = [
                Criterion(id=seeded_uuid(rng), text=text, is_required=i < 2 or rng.random() < 0.3)
                for i, text in enumerate(rng.sample(_CRITERIA, count))
            ]
            version = WorkflowVersion(seeded_uuid(rng), between(rng, 1, 9), version_ms, criteria)
            state = "paused" if index in paused else "active"
            schedule: records.Schedule = {"cron": rng.choice(_CRONS), "timezone": rng.choice(_TIMEZONES)}
            workflows.append(
                Workflow(
                    id=seeded_uuid(rng),
                    name=name,
                    description=description,
                    server=server,
                    state=state,
                    categories=list(server.categories),
                    schedule=None if state == "paused" else schedule,
                    tester_model_ids=rng.sample(_TESTER_MODELS, between(rng, 1, 2)),
                    judge_model=rng.choice(_JUDGE_MODELS),
                    versions=[version],
                    created_ms=created,
                    updated_ms=version_ms,
                    weight=0.2 if state == "paused" else rng.uniform(0.5, 2.0),
                    pass_rate=rng.uniform(0.55, 0.92),
                )
            )
    return workflows


def _topics(rng: random.Random, servers: list[McpServer]) -> list[Topic]:
    """Forty topics: verb and object pairs of the servers' domains, a few flagged or archived."""
    pairs = [(verb, obj, server) for server in servers for obj in server.objects for verb in _VERBS]
    chosen = rng.sample(pairs, 40)
    unmet = set(rng.sample(range(40), 6))
    archived = set(rng.sample(range(40), 2))
    topics = []
    for index, (verb, obj, server) in enumerate(chosen):
        topics.append(
            Topic(
                id=seeded_uuid(rng),
                label=f"{verb.capitalize()} {obj}",
                verb=verb,
                obj=obj,
                server=server,
                is_unmet_demand=index in unmet,
                archived=index in archived,
                weight=1.0 / (index + 1) ** 0.8,
                error_bias=rng.uniform(0.02, 0.2),
                frustration_bias=rng.uniform(0.0, 1.0),
                sample_intents=[f"{verb} {obj} {q}" for q in rng.sample(_QUALIFIERS, 3)],
            )
        )
    return topics


def _failed_searches(rng: random.Random, topics: list[Topic]) -> list[FailedSearch]:
    """Twenty-five failed-search clusters, each raised in one topic's sessions."""
    searches = []
    for _ in range(25):
        topic = rng.choice(topics)
        extra = rng.choice(_GAP_EXTRAS)
        query = f"{topic.verb} {topic.obj} {extra}"
        searches.append(
            FailedSearch(
                id=seeded_uuid(rng),
                query=query,
                suggested_gap=f"Add a tool to {query}",
                example_queries=[f"{query} {q}" for q in rng.sample(_QUALIFIERS, 3)],
                topic=topic,
            )
        )
    return searches


# ---- planning runs and their children ----


def _plan_run(
    rng: random.Random,
    arrival: int | str,
    started_ms: int,
    workflow: Workflow,
    last_run_of: dict[str, str],
) -> RunPlan:
    """Fix a run's whole life: timing, outcome, sizes, cost."""
    run_id = seeded_uuid(rng)
    queued = between(rng, 1, 45) * SECOND if rng.random() < 0.97 else between(rng, 5, 40) * MINUTE
    roll = rng.random()
    if roll < 0.01:
        outcome = "timed_out"
        ended = started_ms + between(rng, 60, 150) * MINUTE
    else:
        lasts = between(rng, 30 * MINUTE, 5 * HOUR) if roll < 0.06 else between(rng, MINUTE, 15 * MINUTE)
        ended = started_ms + queued + lasts
        outcome = _judged(_outcome(rng, workflow.pass_rate), workflow.current)
    tool_calls = between(rng, 0, 4) if outcome == "error" else between(rng, 0, 15)
    spans = between(rng, max(5, tool_calls + 3), 40)
    trigger = "manual" if workflow.manual_only else rng.choices(("scheduled", "manual", "api"), (75, 15, 10))[0]
    baseline = last_run_of.get(workflow.id) if trigger != "scheduled" and rng.random() < 0.6 else None
    return RunPlan(
        arrival=arrival,
        id=run_id,
        workflow=workflow,
        workflow_name=workflow.name,
        version=workflow.current,
        server=workflow.server,
        started_ms=started_ms,
        running_ms=started_ms + queued,
        ended_ms=ended,
        outcome=outcome,
        classification=_classification(rng, outcome),
        trigger=trigger,
        model=rng.choice(workflow.tester_model_ids),
        cost_usd=round(spans * rng.uniform(0.001, 0.004) + tool_calls * 0.0005, 4),
        spans=spans,
        tool_calls=tool_calls,
        baseline_run_id=baseline,
        reason=_reason(rng, trigger, workflow),
    )


def _judged(outcome: str, version: WorkflowVersion) -> str:
    """An outcome the version's criteria allow: partial needs two required criteria, fail one."""
    required = sum(1 for c in version.criteria if c.is_required)
    if outcome == "partial" and required < 2:
        outcome = "fail"
    if outcome == "fail" and required == 0:
        outcome = "pass"
    return outcome


def _outcome(rng: random.Random, pass_rate: float) -> str:
    """A terminal status for a run that did not time out."""
    if rng.random() < 0.04:
        return "error"
    roll = rng.random()
    if roll < pass_rate:
        return "pass"
    return "partial" if roll < pass_rate + (1 - pass_rate) / 2 else "fail"


def _classification(rng: random.Random, outcome: str) -> str:
    """How the judge classifies an outcome."""
    if outcome in UNJUDGED_ENDS:
        return "infrastructure"
    if outcome == "pass":
        return "expected"
    return rng.choices(("regression", "flaky", "expected"), (50, 35, 15))[0]


def _reason(rng: random.Random, trigger: str, workflow: Workflow) -> str:
    """The label a dispatch carries."""
    if trigger == "scheduled":
        cron = workflow.schedule["cron"] if workflow.schedule else "manual"
        return f"Scheduled run ({cron})"
    if trigger == "api":
        return f"CI deploy {rng.getrandbits(28):07x}"
    return rng.choice(_REASONS_MANUAL)


def _run_children(rng: random.Random, plan: RunPlan, text: str) -> RunChildren:
    """Derive a run's terminal spans and tool calls from its own seed.

    The root agent span holds the leaves (llm and tool spans, one tool span per tool call),
    grouped under "step" agent spans when there are many, and the judge span last. Spans come
    in start order, so the part of an open run shown so far is a prefix.
    """
    start = plan.running_ms
    active_end = plan.ended_ms
    if plan.outcome == "timed_out":
        # a timed-out run stops emitting long before the sweeper ends it
        active_end = min(plan.ended_ms, start + between(rng, 2, 12) * MINUTE)
    judge = 1 if plan.evaluated else 0
    leaves_end = active_end - judge * (active_end - start) // between(rng, 10, 20)
    rest = plan.spans - 1 - plan.tool_calls - judge
    groups = rest // 6
    others = ["tool"] * plan.tool_calls + ["llm"] * (rest - groups - 1)
    rng.shuffle(others)
    kinds = ["llm", *others]
    times = _partition(rng, start, leaves_end, len(kinds))
    cuts = sorted(rng.sample(range(1, len(kinds)), groups - 1)) if groups > 1 else []
    root_id = seeded_uuid(rng)
    kids = RunChildren([], [], [], [])
    ok = plan.outcome not in UNJUDGED_ENDS
    _add_span(kids, root_id, None, plan.workflow_name, "agent", ok, start, plan.ended_ms,
              {"workflow_id": plan.workflow.id, "model": plan.model})
    for step, (lo, hi) in enumerate(itertools.pairwise([0, *cuts, len(kinds)])):
        parent = root_id
        if groups:
            parent = seeded_uuid(rng)
            _add_span(kids, parent, root_id, f"step {step + 1}", "agent", True, times[lo][0], times[hi - 1][1],
                      {"step": step + 1})
        for kind, (a, b) in zip(kinds[lo:hi], times[lo:hi], strict=True):
            if kind == "llm":
                attributes = {
                    "model": plan.model,
                    "input_tokens": between(rng, 400, 12000),
                    "output_tokens": between(rng, 20, 1500),
                }
                _add_span(kids, seeded_uuid(rng), parent, "llm.generate", "llm", True, a, b, attributes)
            else:
                _add_tool_call(kids, rng, plan, text, parent, a, b)
    if judge:
        _add_span(kids, seeded_uuid(rng), root_id, "judge.evaluate", "judge", True, leaves_end, active_end,
                  {"model": plan.workflow.judge_model, "criteria": len(plan.version.criteria)})
    return kids


def _partition(rng: random.Random, start: int, end: int, count: int) -> list[tuple[int, int]]:
    """Cut [start, end] into `count` consecutive (start, end) slots of random length."""
    weights = [0.3 + 2.7 * rng.random() for _ in range(count)]
    scale = max(end - start, count) / sum(weights)
    slots, done = [], 0.0
    for weight in weights:
        a = start + int(done * scale)
        done += weight
        b = start + int(done * scale)
        slots.append((a, max(a, b - between(rng, 0, 40))))
    return slots


def _add_span(kids: RunChildren, span_id: str, parent_id: str | None, name: str, kind: str, ok: bool,
              a: int, b: int, attributes: dict[str, Any]) -> None:
    """Append one span running from `a` to `b`."""
    kids.spans.append(
        {
            "id": span_id,
            "parent_id": parent_id,
            "name": name,
            "kind": kind,
            "status": "ok" if ok else "error",
            "started_at": instant(a),
            "ended_at": instant(b),
            "duration_ms": b - a,
            "attributes": attributes,
        }
    )
    kids.span_starts.append(a)


def _add_tool_call(
    kids: RunChildren, rng: random.Random, plan: RunPlan, text: str, parent: str, a: int, b: int
) -> None:
    """Append a tool span [a, b] and the tool call inside it; some results run to tens of KiB."""
    name = rng.choice(plan.server.tools)[0]
    seq = len(kids.tool_calls)
    failed = (plan.outcome == "error" and seq == plan.tool_calls - 1) or rng.random() < 0.06
    span_id = seeded_uuid(rng)
    _add_span(kids, span_id, parent, f"tools/call {name}", "tool", not failed, a, b,
              {"tool_name": name, "mcp_server_id": plan.server.id})
    began = a + min(between(rng, 1, 5), b - a)
    error = rng.choice(_TOOL_ERRORS) if failed else None
    kids.tool_calls.append(
        {
            "id": seeded_uuid(rng),
            "seq": seq,
            "span_id": span_id,
            "tool_name": name,
            "arguments": {"query": " ".join(rng.choices(_WORDS, k=3)), "limit": rng.choice((10, 20, 50, 100))},
            "result": {"error": error} if failed else _tool_result(rng, text),
            "is_error": failed,
            "error_message": error,
            "started_at": instant(began),
            "duration_ms": b - began,
        }
    )
    kids.call_starts.append(began)


def _tool_result(rng: random.Random, text: str) -> dict[str, Any]:
    """A tool result: usually small, sometimes tens of KiB, always a slice of the text block."""
    roll = rng.random()
    if roll < 0.05:
        size = between(rng, 16 * KIB, 60 * KIB)
    elif roll < 0.2:
        size = between(rng, 2 * KIB, 8 * KIB)
    else:
        size = between(rng, 120, 1500)
    offset = between(rng, 0, len(text) - size)
    return {"content": [{"type": "text", "text": text[offset : offset + size]}], "isError": False}


def _evaluation(rng: random.Random, plan: RunPlan, text: str) -> records.Evaluation:
    """The judge's verdict, consistent with the run's status (criteria come from its version)."""
    criteria = plan.version.criteria
    required = [c for c in criteria if c.is_required]
    failing: set[str] = set()
    if plan.outcome == "fail":
        failing = {c.id for c in required}
    elif plan.outcome == "partial":
        failing = {c.id for c in rng.sample(required, between(rng, 1, len(required) - 1))}
    results: list[records.CriterionResult] = []
    for criterion in criteria:
        if criterion.id in failing:
            verdict = "fail"
        elif criterion.is_required:
            verdict = "pass"
        else:
            verdict = rng.choices(("pass", "fail", "skipped"), (70, 20, 10))[0]
        score = {"pass": rng.uniform(0.7, 1.0), "fail": rng.uniform(0.0, 0.4), "skipped": 0.0}[verdict]
        at = between(rng, 0, len(text) - 201)
        results.append(
            {
                "criterion_id": criterion.id,
                "text": criterion.text,
                "is_required": criterion.is_required,
                "verdict": verdict,
                "score": round(score, 3),
                "rationale": f"The transcript {_MEETS[verdict]} this: {text[at : at + 80]}",
                "excerpts": [text[at : at + between(rng, 60, 200)]],
            }
        )
    passed = sum(1 for r in results if r["verdict"] == "pass")
    return {
        "run_id": plan.id,
        "verdict": plan.outcome,
        "classification": plan.classification,
        "judge_model": plan.workflow.judge_model,
        "summary": f"{passed} of {len(results)} criteria passed; verdict {plan.outcome}.",
        "criteria": results,
    }


# ---- planning sessions and their events ----


def _plan_session(rng: random.Random, arrival: int, started_ms: int, world: World) -> SessionPlan:
    """Fix a session's whole life: topic, intent, event times, errors, failed searches."""
    topic = rng.choices(world.topics, weights=[t.weight for t in world.topics])[0]
    client, version = rng.choice(_CLIENTS)
    session_uuid = seeded_uuid(rng)
    count = int(rng.triangular(1, 31, 6))
    event_ms = [started_ms]
    first_tool = 1
    if count > 1 and rng.random() < 0.7:
        event_ms.append(started_ms + between(rng, 50, 500))
        first_tool = 2
    while len(event_ms) < count:
        roll = rng.random()
        if roll < 0.7:
            gap = between(rng, 2, 90) * SECOND
        elif roll < 0.95:
            gap = between(rng, 1, 8) * MINUTE
        else:
            gap = between(rng, 10, 28) * MINUTE
        event_ms.append(event_ms[-1] + gap)
    errors_before = [0]
    for index in range(count):
        failed = index >= first_tool and rng.random() < topic.error_bias
        errors_before.append(errors_before[-1] + failed)
    related = [s for s in world.failed_searches if s.topic is topic]
    searches = {
        index: rng.choice(related)
        for index in range(first_tool, count)
        if related and errors_before[index + 1] == errors_before[index] and rng.random() < 0.12
    }
    frustration = _FRUSTRATION[min(2, int(topic.frustration_bias * 2 + rng.random()))]
    return SessionPlan(
        arrival=arrival,
        id=seeded_uuid(rng),
        session_key=f"mcp:mcp_{client}_v_{version}_{session_uuid}",
        actor_id=rng.choice(world.actors),
        raw_intent=f"{topic.verb} {topic.obj} {rng.choice(_QUALIFIERS)}",
        client_name=client,
        client_version=version,
        topic=topic,
        frustration=frustration,
        event_ms=event_ms,
        errors_before=errors_before,
        first_tool=first_tool,
        searches=searches,
    )


def _session_events(rng: random.Random, plan: SessionPlan, text: str, count: int) -> list[records.Event]:
    """The first `count` events; each draws from the generator in order, so earlier ones never change."""
    events: list[records.Event] = []
    for index in range(count):
        at = plan.event_ms[index]
        request_id = seeded_uuid(rng)
        if index == 0:
            kind, duration = "session_init", between(rng, 5, 40)
            metadata: dict[str, Any] = {
                "client_name": plan.client_name,
                "client_version": plan.client_version,
                "protocol_version": "2025-06-18",
                "user_agent": f"{plan.client_name}/{plan.client_version}",
            }
            preview = None
        elif index < plan.first_tool:
            kind, duration = "actor_identity", between(rng, 2, 20)
            metadata = {"identifier": f"user-{plan.actor_id[:8]}@example.com"}
            preview = None
        else:
            kind, duration = "tool_call", between(rng, 30, 4000)
            metadata, preview = _tool_event(rng, plan, text, index)
        failed = plan.errors_before[index + 1] > plan.errors_before[index]
        events.append(
            {
                "event_id": sha256_hex(f"{plan.actor_id} {kind} {request_id}"),
                "kind": kind,
                "started_at": instant(at),
                "finished_at": instant(at + duration),
                "duration_ms": duration,
                "ok": not failed,
                "error": rng.choice(_TOOL_ERRORS) if failed else None,
                "metadata": metadata,
                "result_preview": preview,
            }
        )
    return events


def _tool_event(rng: random.Random, plan: SessionPlan, text: str, index: int) -> tuple[dict[str, Any], str]:
    """Metadata and result preview of one tool-call event."""
    name, _ = rng.choice(plan.topic.server.tools)
    at = between(rng, 0, len(text) - 601)
    metadata: dict[str, Any] = {
        "tool_name": name,
        "user_intent": plan.raw_intent if index == plan.first_tool else None,
        "agent_thinking": text[at : at + between(rng, 40, 160)],
        "user_frustration": plan.frustration,
        "input_preview": '{"query": "%s"}' % " ".join(rng.sample(_WORDS, 3)),
        "workflow_run_id": None,
    }
    search = plan.searches.get(index)
    if search is not None:
        metadata["search_query"] = search.query
        return metadata, f"No results for {search.query!r}"
    return metadata, text[at : at + between(rng, 80, 512)]


def _range_stats(world: World, range_ms: int) -> RangeStats:
    """Count sessions, tool calls, errors and frustration per topic over one range."""
    now = world.now_ms
    since, before = now - range_ms, now - 2 * range_ms
    stats = RangeStats([], {}, {}, {}, {}, {}, 0, 0, 0)
    actors: set[str] = set()
    levels = {"low": 0.0, "medium": 0.5, "high": 1.0}
    for plan, n in world._session_view():
        topic = plan.topic.id
        ms = plan.event_ms
        earlier = bisect.bisect_right(ms, before, 0, n)
        if earlier < n and ms[earlier] <= since:
            stats.topic_previous[topic] = stats.topic_previous.get(topic, 0) + 1
        if ms[n - 1] <= since:
            continue
        lo = bisect.bisect_right(ms, since, 0, n)
        calls = plan.tool_calls_between(lo, n)
        errors = plan.errors_before[n] - plan.errors_before[lo]
        stats.sessions.append(plan)
        actors.add(plan.actor_id)
        stats.topic_sessions[topic] = stats.topic_sessions.get(topic, 0) + 1
        stats.topic_tool_calls[topic] = stats.topic_tool_calls.get(topic, 0) + calls
        stats.topic_errors[topic] = stats.topic_errors.get(topic, 0) + errors
        stats.topic_frustration[topic] = stats.topic_frustration.get(topic, 0.0) + levels[plan.frustration]
        stats.tool_calls += calls
        stats.errors += errors
    stats.actors = len(actors)
    return stats
