"""MCP sessions: planned whole at arrival, growing on the clock, listed and traced by insights.

A session's event times, errors and failed searches are fixed when it arrives; the API shows
the events whose time has come, so a session grows (new events, counts, `last_event_at`)
until it has been idle for 30 minutes. Its events are derived on demand from their own seed;
the first `n` never change as more arrive.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any

from armature_sim import records
from armature_sim.vocabulary import MINUTE, SECOND
from armature_sim.world import corpus
from armature_sim.world.catalog import Catalog, FailedSearch, Topic
from armature_sim.world.clock import Clock, instant
from armature_sim.world.seeding import between, seeded, seeded_uuid, sha256_hex


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


class Sessions:
    """Every session so far in arrival order, by id, and what each shows at the clock's now."""

    def __init__(self, seed: int, clock: Clock, catalog: Catalog, text: str, count: int) -> None:
        self.seed = seed
        self.clock = clock
        self.catalog = catalog
        self.text = text
        self.actors = [sha256_hex(f"actor:{seed}:{i}") for i in range(max(5, count // 6))]
        self.plans: list[SessionPlan] = []
        self.by_id: dict[str, SessionPlan] = {}

    def arrive(self, arrival: int, started_ms: int) -> SessionPlan:
        """Plan arrival `arrival` of the session stream and append it."""
        plan = plan_session(seeded(self.seed, "session", arrival), arrival, started_ms, self.catalog, self.actors)
        self.plans.append(plan)
        self.by_id[plan.id] = plan
        for index, search in plan.searches.items():
            bisect.insort(search.hits, (plan.event_ms[index], arrival, plan.id))
        return plan

    def view(self) -> list[tuple[SessionPlan, int]]:
        """Every session with its visible event count, newest last event first."""
        def compute() -> list[tuple[SessionPlan, int]]:
            now = self.clock.now_ms
            view = [(s, s.visible(now)) for s in self.plans]
            view = [(s, n) for s, n in view if n]
            view.sort(key=lambda item: (item[0].event_ms[item[1] - 1], item[0].id), reverse=True)
            return view

        return self.clock.remembered(("session-view",), compute)

    def listed(
        self, range_ms: int, intent: str | None = None, limit: int | None = None
    ) -> list[tuple[SessionPlan, int]]:
        """Sessions whose last event is inside the range, newest first, optionally by intent."""
        since = self.clock.now_ms - range_ms
        needle = intent.casefold() if intent else None
        found: list[tuple[SessionPlan, int]] = []
        for plan, n in self.view():
            if plan.event_ms[n - 1] <= since or len(found) == limit:
                break
            if needle is None or needle in plan.raw_intent.casefold():
                found.append((plan, n))
        return found

    def record(self, plan: SessionPlan, seen: int | None = None) -> records.Session:
        """A session as the sessions list shows it now (`seen` events, if the caller knows)."""
        n = plan.visible(self.clock.now_ms) if seen is None else seen
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

    def events(self, plan: SessionPlan) -> list[records.Event]:
        """The session's events so far (a stable prefix of its planned events)."""
        n = plan.visible(self.clock.now_ms)
        return session_events(seeded(self.seed, "events", plan.arrival), plan, self.text, n)


def plan_session(
    rng: random.Random, arrival: int, started_ms: int, catalog: Catalog, actors: list[str]
) -> SessionPlan:
    """Fix a session's whole life: topic, intent, event times, errors, failed searches."""
    topic = rng.choices(catalog.topics, weights=[t.weight for t in catalog.topics])[0]
    client, version = rng.choice(corpus.CLIENTS)
    session_uuid = seeded_uuid(rng)
    count = int(rng.triangular(1, 31, 6))
    event_ms = [started_ms]
    first_tool = 1
    if count > 1 and rng.random() < 0.7:
        event_ms.append(started_ms + between(rng, 50, 500))
        first_tool = 2
    while len(event_ms) < count:
        event_ms.append(event_ms[-1] + _gap(rng))
    errors_before = [0]
    for index in range(count):
        failed = index >= first_tool and rng.random() < topic.error_bias
        errors_before.append(errors_before[-1] + failed)
    related = [s for s in catalog.failed_searches if s.topic is topic]
    searches = {
        index: rng.choice(related)
        for index in range(first_tool, count)
        if related and errors_before[index + 1] == errors_before[index] and rng.random() < 0.12
    }
    frustration = corpus.FRUSTRATION[min(2, int(topic.frustration_bias * 2 + rng.random()))]
    return SessionPlan(
        arrival=arrival,
        id=seeded_uuid(rng),
        session_key=f"mcp:mcp_{client}_v_{version}_{session_uuid}",
        actor_id=rng.choice(actors),
        raw_intent=f"{topic.verb} {topic.obj} {rng.choice(corpus.QUALIFIERS)}",
        client_name=client,
        client_version=version,
        topic=topic,
        frustration=frustration,
        event_ms=event_ms,
        errors_before=errors_before,
        first_tool=first_tool,
        searches=searches,
    )


def _gap(rng: random.Random) -> int:
    """The pause before a session's next event: mostly seconds, sometimes many minutes."""
    roll = rng.random()
    if roll < 0.7:
        return between(rng, 2, 90) * SECOND
    if roll < 0.95:
        return between(rng, 1, 8) * MINUTE
    return between(rng, 10, 28) * MINUTE


def session_events(rng: random.Random, plan: SessionPlan, text: str, count: int) -> list[records.Event]:
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
                "error": rng.choice(corpus.TOOL_ERRORS) if failed else None,
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
        "input_preview": '{"query": "%s"}' % " ".join(rng.sample(corpus.WORDS, 3)),
        "workflow_run_id": None,
    }
    search = plan.searches.get(index)
    if search is not None:
        metadata["search_query"] = search.query
        return metadata, f"No results for {search.query!r}"
    return metadata, text[at : at + between(rng, 80, 512)]
