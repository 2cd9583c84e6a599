"""The catalog: what the organization has set up, and how `/mcp-servers` and `/workflows` show it.

The organization, three MCP sources, four workflows per source, forty usage topics and
twenty-five failed-search clusters are drawn from one generator (`seeded(seed, "catalog")`)
in that order. They are mutable: writes through the API edit them (`armature_sim.world.edits`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from armature_sim import records
from armature_sim.vocabulary import DAY, LISTED_ENVIRONMENT
from armature_sim.world import corpus
from armature_sim.world.clock import instant
from armature_sim.world.seeding import between, seeded_uuid


@dataclass
class Organization:
    """The one organization the keys belong to."""

    id: str
    slug: str
    name: str

    def record(self) -> records.Organization:
        """The organization as `/org` shows it."""
        return {"id": self.id, "slug": self.slug, "name": self.name}


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

    def record(self) -> records.McpServer:
        """The source as `/mcp-servers` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "transport_type": self.transport_type,
            "target_kind": self.target_kind,
            "base_url": self.base_url,
            "categories": list(self.categories),
            "environment": self.environment,
            "created_at": instant(self.created_ms),
            "updated_at": instant(self.updated_ms),
        }

    def detail(self) -> records.McpServerDetail:
        """The source plus its tool catalog."""
        return {**self.record(), "tools": [{"name": name, "description": text} for name, text in self.tools]}


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

    def record(self) -> records.Workflow:
        """The workflow with its current version's criteria; `archived_at` is null while live."""
        version = self.current
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "mcp_server_id": self.server.id,
            "state": self.state,
            "categories": list(self.categories),
            "schedule": self.schedule.copy() if self.schedule else None,
            "tester_model_ids": list(self.tester_model_ids),
            "criteria": [{"id": c.id, "text": c.text, "is_required": c.is_required} for c in version.criteria],
            "current_version": {"id": version.id, "number": version.number, "created_at": instant(version.created_ms)},
            "created_at": instant(self.created_ms),
            "updated_at": instant(self.updated_ms),
            "archived_at": instant(self.archived_ms) if self.archived_ms is not None else None,
        }


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


class Catalog:
    """Everything the organization has set up, drawn in a fixed order from one generator."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        name, slug = rng.choice(corpus.ORGANIZATIONS)
        self.organization = Organization(id=seeded_uuid(rng), slug=slug, name=name)
        self.mcp_servers = _servers(rng, now_ms)
        self.workflows = _workflows(rng, self.mcp_servers, now_ms)
        self.topics = _topics(rng, self.mcp_servers)
        self.failed_searches = _failed_searches(rng, self.topics)

    def listed_servers(self) -> list[McpServer]:
        """The MCP sources `/mcp-servers` lists: production ones only, as documented."""
        return [server for server in self.mcp_servers if server.environment == LISTED_ENVIRONMENT]

    def listed_workflows(self) -> list[Workflow]:
        """The workflows `/workflows` lists: every one that is not archived."""
        return [workflow for workflow in self.workflows if workflow.live]


def _servers(rng: random.Random, now_ms: int) -> list[McpServer]:
    """The three MCP sources, set up months before the world's start."""
    servers = []
    for spec in corpus.SERVERS:
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
    paused = set(rng.sample(range(len(corpus.SERVERS) * 4), 2))
    for spec, server in zip(corpus.SERVERS, servers, strict=True):
        for name, description in spec["workflows"]:
            index = len(workflows)
            created = server.created_ms + between(rng, 1, 60) * DAY
            version_ms = now_ms - between(rng, 40, 90) * DAY
            count = between(rng, 2, 6)
            criteria = [
                Criterion(id=seeded_uuid(rng), text=text, is_required=i < 2 or rng.random() < 0.3)
                for i, text in enumerate(rng.sample(corpus.CRITERIA, count))
            ]
            version = WorkflowVersion(seeded_uuid(rng), between(rng, 1, 9), version_ms, criteria)
            state = "paused" if index in paused else "active"
            schedule: records.Schedule = {"cron": rng.choice(corpus.CRONS), "timezone": rng.choice(corpus.TIMEZONES)}
            workflows.append(
                Workflow(
                    id=seeded_uuid(rng),
                    name=name,
                    description=description,
                    server=server,
                    state=state,
                    categories=list(server.categories),
                    schedule=None if state == "paused" else schedule,
                    tester_model_ids=rng.sample(corpus.TESTER_MODELS, between(rng, 1, 2)),
                    judge_model=rng.choice(corpus.JUDGE_MODELS),
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
    pairs = [(verb, obj, server) for server in servers for obj in server.objects for verb in corpus.VERBS]
    chosen = rng.sample(pairs, 40)
    unmet = set(rng.sample(range(40), 6))
    archived = set(rng.sample(range(40), 2))
    return [
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
            sample_intents=[f"{verb} {obj} {q}" for q in rng.sample(corpus.QUALIFIERS, 3)],
        )
        for index, (verb, obj, server) in enumerate(chosen)
    ]


def _failed_searches(rng: random.Random, topics: list[Topic]) -> list[FailedSearch]:
    """Twenty-five failed-search clusters, each raised in one topic's sessions."""
    searches = []
    for _ in range(25):
        topic = rng.choice(topics)
        extra = rng.choice(corpus.GAP_EXTRAS)
        query = f"{topic.verb} {topic.obj} {extra}"
        searches.append(
            FailedSearch(
                id=seeded_uuid(rng),
                query=query,
                suggested_gap=f"Add a tool to {query}",
                example_queries=[f"{query} {q}" for q in rng.sample(corpus.QUALIFIERS, 3)],
                topic=topic,
            )
        )
    return searches
