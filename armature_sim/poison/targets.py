"""Finding the record a poison rule names, in the world as it is when the rule is put in force.

`nth` counts (from 1) in the order the truth lists that kind (`/_sim/truth`):

    run            `runs`: the 30-day list, newest first
    evaluation     the runs of that list that are terminal and judged
    session        `sessions`: the 90-day list, newest last event first
    topic, failed_search, workflow   the catalog's order; mcp_server: `mcp_servers`
    span, tool_call  the run's children in order, of `parent` or else of the first terminal
                   run of the list with at least `nth` of them
    event          the session's events in order, of `parent` or else of the first session
                   of the list with at least `nth` events

An `id` is looked up; a child's parent, when the rule gives none, is searched for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from armature_sim.poison.rules import RECORDS, PoisonRule, PoisonSpecError
from armature_sim.vocabulary import RUNS_WINDOW, SESSION_HISTORY
from armature_sim.world import World
from armature_sim.world.run_plan import RunPlan
from armature_sim.world.sessions import SessionPlan


def resolve(world: World, rule: PoisonRule) -> None:
    """Fill in the rule's `id` (and a child's `parent`) from the world.

    Raises:
        PoisonSpecError: no such record, or fewer than `nth` of them.
    """
    if rule.record in ("span", "tool_call", "event"):
        rule.parent, rule.id = _child(world, rule)
    elif rule.nth is not None:
        rule.id = _nth(_ids(world, rule.record), rule)
    elif rule.id not in set(_known(world, rule.record)):
        raise PoisonSpecError(f"no {rule.record} has id {rule.id!r}")


def _ids(world: World, record: str) -> Iterator[str]:
    """The ids of a kind of record in `nth` order."""
    runs = world.runs.listed(RUNS_WINDOW)
    now = world.clock.now_ms
    if record == "run":
        yield from (plan.id for plan in runs)
    elif record == "evaluation":
        yield from (plan.id for plan in runs if not plan.is_open(now) and plan.evaluated)
    elif record == "session":
        yield from (plan.id for plan, _ in world.sessions.listed(SESSION_HISTORY))
    elif record == "mcp_server":
        yield from (server.id for server in world.catalog.listed_servers())
    else:
        yield from _catalog(world, record)


def _known(world: World, record: str) -> Iterable[str]:
    """Every id of a kind of record that some endpoint serves by id."""
    if record == "run":
        return world.runs.by_id
    if record == "evaluation":
        return (plan.id for plan in world.runs.plans if plan.evaluated)
    if record == "session":
        return world.sessions.by_id
    if record == "mcp_server":
        return (server.id for server in world.catalog.mcp_servers)
    return _catalog(world, record)


def _catalog(world: World, record: str) -> Iterator[str]:
    """Topics, failed searches or workflows, in the catalog's order."""
    catalog = world.catalog
    if record == "topic":
        return (topic.id for topic in catalog.topics)
    if record == "failed_search":
        return (search.id for search in catalog.failed_searches)
    return (workflow.id for workflow in catalog.workflows)


def _nth(ids: Iterable[str], rule: PoisonRule) -> str:
    """The `nth` id, or a refusal saying how many there are."""
    assert rule.nth is not None
    found = list(ids)
    if rule.nth > len(found):
        raise PoisonSpecError(f"nth is {rule.nth} but there are {len(found)} of {rule.record}")
    return found[rule.nth - 1]


def _child(world: World, rule: PoisonRule) -> tuple[str, str]:
    """(parent id, child id) of a span, tool call or event rule."""
    key = RECORDS[rule.record].key
    parents = _parents(world, rule)
    for parent_id, children in parents:
        ids = [child[key] for child in children]
        if rule.nth is not None and len(ids) >= rule.nth:
            return parent_id, ids[rule.nth - 1]
        if rule.id is not None and rule.id in ids:
            return parent_id, rule.id
        if rule.parent is not None:
            break
    where = f" of {rule.parent}" if rule.parent else ""
    wanted = f"a {rule.nth}th" if rule.nth is not None else f"id {rule.id!r}"
    raise PoisonSpecError(f"no {rule.record}{where} with {wanted}")


def _parents(world: World, rule: PoisonRule) -> Iterator[tuple[str, list[Any]]]:
    """(id, children) of the rule's parent, or of every candidate parent in list order.

    With `nth` and no parent only parents with enough children are derived; a run counts
    only once terminal, when its children are complete.
    """
    if rule.record == "event":
        sessions = _given(world.sessions.by_id, rule) or [p for p, _ in world.sessions.listed(SESSION_HISTORY)]
        for session in sessions:
            if rule.parent or rule.nth is None or session.visible(world.clock.now_ms) >= rule.nth:
                yield session.id, world.sessions.events(session)
        return
    now = world.clock.now_ms
    runs = _given(world.runs.by_id, rule) or [p for p in world.runs.listed(RUNS_WINDOW) if not p.is_open(now)]
    for run in runs:
        size = run.spans if rule.record == "span" else run.tool_calls
        if rule.parent or rule.nth is None or size >= rule.nth:
            children = world.runs.children(run)
            yield run.id, children.spans if rule.record == "span" else children.tool_calls


def _given(parents: dict[str, Any], rule: PoisonRule) -> list[Any] | None:
    """The rule's parent as a one-item list, None when the rule names none."""
    if rule.parent is None:
        return None
    if rule.parent not in parents:
        raise PoisonSpecError(f"parent {rule.parent!r} names no {'session' if rule.record == 'event' else 'run'}")
    found: RunPlan | SessionPlan = parents[rule.parent]
    return [found]
