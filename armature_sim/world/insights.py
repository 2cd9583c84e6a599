"""MCP Analytics over the sessions: topics, failed-search clusters and the overview, per range.

Every count depends on the range and on the clock; one pass over the session view per range
(`RangeStats`) feeds the topics, the overview and its trend, and is remembered until the
clock moves or a write changes the world.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from armature_sim import records
from armature_sim.vocabulary import DAY, INSIGHT_RANGES
from armature_sim.world.catalog import Catalog, FailedSearch, Topic
from armature_sim.world.clock import Clock, instant
from armature_sim.world.sessions import SessionPlan, Sessions

_FRUSTRATION_LEVELS = {"low": 0.0, "medium": 0.5, "high": 1.0}
_SAMPLES = 5  # sample sessions, top topics and top searches shown
_TOPIC_ORDER: dict[str, Callable[[records.Topic], tuple[Any, ...]]] = {
    "volume": lambda r: (-r["session_count"], r["id"]),
    "frustration": lambda r: (-r["frustration_score"], -r["session_count"], r["id"]),
    "trend": lambda r: (-r["trend"], -r["session_count"], r["id"]),
}


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


class Insights:
    """The insights endpoints' answers, worked out from the sessions at the clock's now."""

    def __init__(self, clock: Clock, catalog: Catalog, sessions: Sessions) -> None:
        self.clock = clock
        self.catalog = catalog
        self.sessions = sessions

    def stats(self, range_ms: int) -> RangeStats:
        """Insights counts over the range, remembered until the clock moves."""
        return self.clock.remembered(("range-stats", range_ms), lambda: self._count(range_ms))

    def topic_record(self, topic: Topic, range_ms: int) -> records.Topic:
        """A topic with its counts over the range."""
        stats = self.stats(range_ms)
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

    def topics(self, range_ms: int, sort: str = "volume") -> list[records.Topic]:
        """Topics with at least one session in the range, in the order asked."""
        stats = self.stats(range_ms)
        rows = [self.topic_record(t, range_ms) for t in self.catalog.topics if stats.topic_sessions.get(t.id)]
        return sorted(rows, key=_TOPIC_ORDER[sort])

    def topic_detail(self, topic: Topic, range_ms: int) -> records.TopicDetail:
        """A topic plus its newest sessions and the failed searches raised in it."""
        recent = [p for p, _ in self.sessions.view() if p.topic is topic][:_SAMPLES]
        return {
            **self.topic_record(topic, range_ms),
            "sample_sessions": self.sample_sessions(recent),
            "related_searches": [
                {"id": s.id, "query": s.query} for s in self.catalog.failed_searches if s.topic is topic
            ],
        }

    def search_record(self, search: FailedSearch, range_ms: int) -> records.FailedSearch:
        """A failed-search cluster with its counts over the range."""
        now = self.clock.now_ms
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

    def failed_searches(self, range_ms: int) -> list[records.FailedSearch]:
        """Clusters with at least one occurrence in the range, most occurrences first."""
        rows = [self.search_record(s, range_ms) for s in self.catalog.failed_searches]
        return sorted((r for r in rows if r["occurrences"]), key=lambda r: (-r["occurrences"], r["id"]))

    def search_detail(self, search: FailedSearch, range_ms: int) -> records.FailedSearchDetail:
        """A failed-search cluster plus the newest sessions it happened in."""
        visible = search.hits[: bisect.bisect_right(search.hits, (self.clock.now_ms, float("inf")))]
        newest = list(dict.fromkeys(session_id for _, _, session_id in reversed(visible)))[:_SAMPLES]
        plans = [self.sessions.by_id[session_id] for session_id in newest]
        return {**self.search_record(search, range_ms), "sample_sessions": self.sample_sessions(plans)}

    def sample_sessions(self, plans: list[SessionPlan]) -> list[records.SampleSession]:
        """The newest few of `plans` as {id, raw_intent, last_event_at}."""
        now = self.clock.now_ms
        shown = [(p, p.visible(now)) for p in plans]
        shown = sorted(((p, n) for p, n in shown if n), key=lambda item: item[0].event_ms[item[1] - 1], reverse=True)
        return [
            {"id": p.id, "raw_intent": p.raw_intent, "last_event_at": instant(p.event_ms[n - 1])}
            for p, n in shown[:_SAMPLES]
        ]

    def overview(self, range_name: str) -> records.Overview:
        """Headline KPIs, a daily trend and the top topics and searches over the range."""
        range_ms = INSIGHT_RANGES[range_name]
        stats = self.stats(range_ms)
        searches = self.failed_searches(range_ms)
        return {
            "range": range_name,
            "generated_at": self.clock.now,
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
                for r in self.topics(range_ms)[:_SAMPLES]
            ],
            "top_failed_searches": [
                {"id": r["id"], "query": r["query"], "occurrences": r["occurrences"]} for r in searches[:_SAMPLES]
            ],
        }

    def _daily_trend(self, range_ms: int) -> list[records.TrendDay]:
        """Sessions, tool calls and errors per UTC day touched by the range."""
        now = self.clock.now_ms
        since = now - range_ms
        days: dict[int, list[Any]] = {day: [set(), 0, 0] for day in range(since // DAY, now // DAY + 1)}
        for plan in self.stats(range_ms).sessions:
            for index in range(bisect.bisect_right(plan.event_ms, since), plan.visible(now)):
                bucket = days[plan.event_ms[index] // DAY]
                bucket[0].add(plan.arrival)
                if index >= plan.first_tool:
                    bucket[1] += 1
                    bucket[2] += plan.errors_before[index + 1] - plan.errors_before[index]
        return [
            {"date": instant(day * DAY).date().isoformat(), "sessions": len(b[0]), "tool_calls": b[1], "errors": b[2]}
            for day, b in sorted(days.items())
        ]

    def _topic_seen(self) -> dict[str, tuple[int, int]]:
        """(first event, last event) per topic over all sessions so far."""
        def compute() -> dict[str, tuple[int, int]]:
            seen: dict[str, tuple[int, int]] = {}
            for plan, n in self.sessions.view():
                first, last = plan.event_ms[0], plan.event_ms[n - 1]
                old = seen.get(plan.topic.id)
                seen[plan.topic.id] = (min(old[0], first), max(old[1], last)) if old else (first, last)
            return seen

        return self.clock.remembered(("topic-seen",), compute)

    def _count(self, range_ms: int) -> RangeStats:
        """Count sessions, tool calls, errors and frustration per topic over one range."""
        now = self.clock.now_ms
        since, before = now - range_ms, now - 2 * range_ms
        stats = RangeStats([], {}, {}, {}, {}, {}, 0, 0, 0)
        actors: set[str] = set()
        for plan, n in self.sessions.view():
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
            frustration = _FRUSTRATION_LEVELS[plan.frustration]
            stats.topic_frustration[topic] = stats.topic_frustration.get(topic, 0.0) + frustration
            stats.tool_calls += calls
            stats.errors += errors
        stats.actors = len(actors)
        return stats
