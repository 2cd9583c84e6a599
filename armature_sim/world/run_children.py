"""What a run leaves behind: its spans, its tool calls and the judge's evaluation.

None of it is stored. Each is derived from a generator of its own (`children`, `evaluation`
plus the run's arrival) whenever it is asked for, so a 20,000-run world costs no more memory
than its plans, and the same run always shows the same children.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from armature_sim import records
from armature_sim.vocabulary import MINUTE, UNJUDGED_ENDS
from armature_sim.world import corpus
from armature_sim.world.clock import instant
from armature_sim.world.seeding import between, seeded_uuid

if TYPE_CHECKING:
    from armature_sim.world.run_plan import RunPlan


@dataclass
class RunChildren:
    """A run's spans and tool calls as they are once it is terminal, with start times for prefixes."""

    spans: list[records.Span]
    span_starts: list[int]
    tool_calls: list[records.ToolCall]
    call_starts: list[int]


def run_children(rng: random.Random, plan: RunPlan, text: str) -> RunChildren:
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
    judged = 1 if plan.evaluated else 0
    leaves_end = active_end - judged * (active_end - start) // between(rng, 10, 20)
    rest = plan.spans - 1 - plan.tool_calls - judged
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
    if judged:
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
    error = rng.choice(corpus.TOOL_ERRORS) if failed else None
    kids.tool_calls.append(
        {
            "id": seeded_uuid(rng),
            "seq": seq,
            "span_id": span_id,
            "tool_name": name,
            "arguments": {"query": " ".join(rng.choices(corpus.WORDS, k=3)), "limit": rng.choice((10, 20, 50, 100))},
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
        size = between(rng, 16 * corpus.KIB, 60 * corpus.KIB)
    elif roll < 0.2:
        size = between(rng, 2 * corpus.KIB, 8 * corpus.KIB)
    else:
        size = between(rng, 120, 1500)
    offset = between(rng, 0, len(text) - size)
    return {"content": [{"type": "text", "text": text[offset : offset + size]}], "isError": False}


def judge(rng: random.Random, plan: RunPlan, text: str) -> records.Evaluation:
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
                "rationale": f"The transcript {corpus.MEETS[verdict]} this: {text[at : at + 80]}",
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
