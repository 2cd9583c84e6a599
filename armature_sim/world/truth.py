"""The ground truth: what the API serves now, for tests to compare with (`GET /_sim/truth`).

It is read from the same lists the API serves, never recomputed beside them, so a test that
compares a load with the truth compares it with what the host really answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from armature_sim.vocabulary import (
    DAY,
    INSIGHT_RANGES,
    MINUTE,
    RUNS_WINDOW,
    SEARCH_LIMIT,
    SESSION_HISTORY,
    SESSION_IDLE,
    SESSION_LIMIT,
    TOPIC_LIMIT,
)
from armature_sim.world.catalog import Workflow
from armature_sim.world.clock import instant
from armature_sim.world.late_children import LateChildren
from armature_sim.world.run_plan import RunPlan

if TYPE_CHECKING:
    from armature_sim.world.world import World


def counts(world: World) -> dict[str, int]:
    """How many of each entity the world holds now.

    MCP sources are the production ones the list serves; workflows include archived ones,
    which are still served by id.
    """
    catalog = world.catalog
    return {
        "mcp_servers": len(catalog.listed_servers()),
        "workflows": len(catalog.workflows),
        "archived_workflows": sum(1 for w in catalog.workflows if not w.live),
        "runs": len(world.runs.plans),
        "runs_in_window": len(world.runs.since(RUNS_WINDOW)),
        "open_runs": len(world.runs.open()),
        "sessions": len(world.sessions.plans),
        "topics": len(catalog.topics),
        "failed_searches": len(catalog.failed_searches),
    }


def truth(world: World) -> dict[str, Any]:
    """What the API serves now: ids, counts, open runs, what each insights list returns."""
    catalog, insights, sessions = world.catalog, world.insights, world.sessions
    now = world.clock.now_ms
    ranges = INSIGHT_RANGES.items()
    return {
        "now": world.clock.now,
        "organization": catalog.organization.record(),
        "mcp_servers": [s.id for s in catalog.listed_servers()],
        "workflows": [w.id for w in catalog.listed_workflows()],
        "workflow_records": [_workflow_truth(w) for w in catalog.workflows],
        "topics": [
            {"id": t.id, "label": t.label, "is_unmet_demand": t.is_unmet_demand, "archived": t.archived}
            for t in catalog.topics
        ],
        "dispatched_runs": [plan.id for plan in world.edits.dispatched],
        "writes": world.edits.count,
        "counts": counts(world),
        "runs_window_days": RUNS_WINDOW // DAY,
        "children": {
            "delay_minutes": world.late_children.delay_ms / MINUTE,
            "missing_run_ids": sorted(world.late_children.missing),
        },
        "runs": [_run_truth(plan, now, world.late_children) for plan in world.runs.listed(RUNS_WINDOW)],
        "open_runs": [plan.id for plan in world.runs.open()],
        "sessions": [
            {
                "id": plan.id,
                "started_at": instant(plan.event_ms[0]),
                "last_event_at": instant(plan.event_ms[n - 1]),
                "event_count": n,
                "open": now - plan.event_ms[n - 1] < SESSION_IDLE,
            }
            for plan, n in sessions.listed(SESSION_HISTORY)
        ],
        "session_list_limit": SESSION_LIMIT.cap,
        "sessions_listed": {
            name: [p.id for p, _ in sessions.listed(ms, limit=SESSION_LIMIT.cap)] for name, ms in ranges
        },
        "sessions_total": {name: len(sessions.listed(ms)) for name, ms in ranges},
        "topics_listed": {name: [r["id"] for r in insights.topics(ms)[:TOPIC_LIMIT.cap]] for name, ms in ranges},
        "topics_total": {name: len(insights.topics(ms)) for name, ms in ranges},
        "failed_searches_listed": {
            name: [r["id"] for r in insights.failed_searches(ms)[:SEARCH_LIMIT.cap]] for name, ms in ranges
        },
        "failed_searches_total": {name: len(insights.failed_searches(ms)) for name, ms in ranges},
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


def _run_truth(plan: RunPlan, now: int, late: LateChildren) -> dict[str, Any]:
    """One run's line in the truth: what it is now, what its children will hold and when.

    `children_available_at` is set once the run is terminal (null if its children never
    appear); `children_available` says whether `/trace`, `/tool-calls` and `/evaluation`
    serve them now.
    """
    terminal = not plan.is_open(now)
    available_at = late.available_at(plan) if terminal else None
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
        "children_available": late.ready(plan, now),
        "children_available_at": instant(available_at) if available_at is not None else None,
    }
