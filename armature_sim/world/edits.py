"""Writes through the API: new MCP sources and workflows, workflow edits and archives,
dispatched runs and topic edits.

A draft says what a checked request body asks for (`armature_sim.http.bodies` builds them);
`Edits` applies it. Each write draws from a generator seeded with the world seed and the
write's number, so the same writes at the same clock times give the same world; a reset
drops them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import TypedDict

from armature_sim import records
from armature_sim.world import corpus
from armature_sim.world.catalog import Catalog, Criterion, McpServer, Topic, Workflow, WorkflowVersion
from armature_sim.world.clock import Clock
from armature_sim.world.run_plan import RunPlan
from armature_sim.world.runs import Runs, plan_run
from armature_sim.world.seeding import seeded, seeded_uuid


@dataclass(frozen=True)
class ServerDraft:
    """A new MCP source."""

    name: str
    transport_type: str
    target_kind: str
    base_url: str | None
    environment: str


class WorkflowChanges(TypedDict, total=False):
    """What a workflow body sets; an absent key leaves that part as it is.

    For a new workflow, `name`, `mcp_server_id` and `tester_prompt` are always there (its
    body requires them); the rest default: no description, the default tester model, no
    criteria, manual-only.
    """

    name: str
    description: str
    tester_prompt: str
    mcp_server_id: str
    tester_model_ids: tuple[str, ...]
    criteria: tuple[tuple[str, bool], ...]
    schedule: records.Schedule | None
    state: str


@dataclass(frozen=True)
class DispatchDraft:
    """A manual dispatch."""

    reason: str | None
    baseline_run_id: str | None
    idempotency_key: str | None
    force_new_run: bool


class TopicChanges(TypedDict, total=False):
    """What a topic PATCH changes."""

    label: str
    is_unmet_demand: bool
    archived: bool


class Edits:
    """Applies writes to the catalog and the run history, and counts them."""

    def __init__(self, seed: int, clock: Clock, catalog: Catalog, runs: Runs) -> None:
        self.seed = seed
        self.clock = clock
        self.catalog = catalog
        self.runs = runs
        self.count = 0
        self.dispatched: list[RunPlan] = []
        self._by_key: dict[tuple[str, str], RunPlan] = {}

    def _next(self) -> random.Random:
        """Count a write and return its generator; remembered answers may no longer hold."""
        self.count += 1
        self.clock.forget()
        return seeded(self.seed, "write", self.count)

    def create_server(self, draft: ServerDraft) -> McpServer:
        """Register an MCP source; its tool catalog is a generic one, as if probed."""
        rng = self._next()
        now = self.clock.now_ms
        server = McpServer(
            id=seeded_uuid(rng),
            name=draft.name,
            transport_type=draft.transport_type,
            target_kind=draft.target_kind,
            base_url=draft.base_url,
            categories=[],
            environment=draft.environment,
            created_ms=now,
            updated_ms=now,
            tools=list(corpus.PROBED_TOOLS),
            objects=(),
        )
        self.catalog.mcp_servers.append(server)
        return server

    def create_workflow(self, draft: WorkflowChanges, server: McpServer) -> Workflow:
        """Create an active workflow at version 1; a scheduled one joins the run stream."""
        rng = self._next()
        now = self.clock.now_ms
        workflow_id = seeded_uuid(rng)
        version_id = seeded_uuid(rng)  # drawn before the criteria ids, as ever
        criteria = _new_criteria(rng, draft.get("criteria", ()))
        version = WorkflowVersion(version_id, 1, now, criteria, draft["tester_prompt"])
        workflow = Workflow(
            id=workflow_id,
            name=draft["name"],
            description=draft.get("description", ""),
            server=server,
            state="active",
            categories=list(server.categories),
            schedule=draft.get("schedule"),
            tester_model_ids=list(draft.get("tester_model_ids") or corpus.TESTER_MODELS[:1]),
            judge_model=rng.choice(corpus.JUDGE_MODELS),
            versions=[version],
            created_ms=now,
            updated_ms=now,
            weight=rng.uniform(0.5, 2.0),
            pass_rate=rng.uniform(0.55, 0.92),
        )
        self.catalog.workflows.append(workflow)
        return workflow

    def update_workflow(self, workflow: Workflow, changes: WorkflowChanges, server: McpServer | None) -> None:
        """Apply a PATCH: every update writes a new version, even one that changes no criteria."""
        rng = self._next()
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
        now = self.clock.now_ms
        workflow.versions.append(WorkflowVersion(seeded_uuid(rng), current.number + 1, now, criteria, prompt))
        workflow.updated_ms = now

    def archive_workflow(self, workflow: Workflow) -> None:
        """Archive: out of the list and the run stream, still served by id; its runs stay."""
        if workflow.live:
            self._next()
            workflow.state = "archived"
            workflow.archived_ms = workflow.updated_ms = self.clock.now_ms

    def dispatch(self, workflow: Workflow, draft: DispatchDraft) -> RunPlan:
        """Queue a run now, or return the run an idempotency key already started.

        With a key, the run id is the UUIDv5 of the key in the workflow id's namespace, and the
        same key returns that run until it is terminal. A later dispatch with the key (or one
        with `forceNewRun`) starts a new run whose id adds `#2`, `#3`, ... to the key.
        """
        key = draft.idempotency_key
        known = self._by_key.get((workflow.id, key)) if key is not None else None
        if known is not None and known.is_open(self.clock.now_ms) and not draft.force_new_run:
            return known
        rng = self._next()
        plan = plan_run(rng, f"dispatch-{len(self.dispatched) + 1}", self.clock.now_ms, workflow, self.runs.last_of)
        if key is not None:
            plan.id = self._key_run_id(workflow, key)
            self._by_key[(workflow.id, key)] = plan
        plan.trigger = "api"
        plan.model = workflow.tester_model_ids[0]
        plan.baseline_run_id = draft.baseline_run_id
        plan.reason = draft.reason or "Dispatched through the API"
        self.dispatched.append(plan)
        return self.runs.append(plan)

    def _key_run_id(self, workflow: Workflow, key: str) -> str:
        """The first unused deterministic run id for an idempotency key."""
        namespace = uuid.UUID(workflow.id)
        run_id, generation = str(uuid.uuid5(namespace, key)), 1
        while run_id in self.runs.by_id:
            generation += 1
            run_id = str(uuid.uuid5(namespace, f"{key}#{generation}"))
        return run_id

    def edit_topic(self, topic: Topic, changes: TopicChanges) -> None:
        """Rename, flag or archive a topic; its counts and sessions stay as they are."""
        self._next()
        topic.label = changes.get("label", topic.label)
        topic.is_unmet_demand = changes.get("is_unmet_demand", topic.is_unmet_demand)
        topic.archived = changes.get("archived", topic.archived)


def _new_criteria(rng: random.Random, criteria: tuple[tuple[str, bool], ...]) -> list[Criterion]:
    """Criteria written by a user, with fresh ids."""
    return [Criterion(seeded_uuid(rng), text, required) for text, required in criteria]
