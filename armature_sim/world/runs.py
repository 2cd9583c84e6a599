"""The run history: runs planned at arrival, listed through `/runs`, shown as they are now.

Only a small plan is stored per run; its whole life (timing, outcome, sizes, cost) is fixed
when it arrives. Its children (spans, tool calls, evaluation) are derived on demand from
their own seeds (`armature_sim.world.run_children`), and what the API shows of them is the
part whose time has come.
"""

from __future__ import annotations

import bisect
import random
from collections import OrderedDict

from armature_sim import records
from armature_sim.vocabulary import HOUR, MINUTE, SECOND, UNJUDGED_ENDS
from armature_sim.world import corpus
from armature_sim.world.catalog import Catalog, Workflow, WorkflowVersion
from armature_sim.world.clock import Clock, instant
from armature_sim.world.run_children import RunChildren, judge, run_children
from armature_sim.world.run_plan import RunPlan
from armature_sim.world.seeding import between, seeded, seeded_uuid

_CHILDREN_KEPT = 256  # a loader asks for a run's trace and tool calls in a row


class Runs:
    """Every run so far in start order, by id, and what each one shows at the clock's now."""

    def __init__(self, seed: int, clock: Clock, catalog: Catalog, text: str) -> None:
        self.seed = seed
        self.clock = clock
        self.catalog = catalog
        self.text = text
        self.plans: list[RunPlan] = []
        self.starts: list[int] = []
        self.by_id: dict[str, RunPlan] = {}
        self.last_of: dict[str, str] = {}  # workflow id -> its newest run, a dispatch's baseline
        self._children: OrderedDict[int | str, RunChildren] = OrderedDict()

    def arrive(self, arrival: int, started_ms: int) -> RunPlan | None:
        """Plan arrival `arrival` of the run stream and append it (arrivals come in time order).

        None when every workflow is archived: the stream has nothing left to run.
        """
        rng = seeded(self.seed, "run", arrival)
        workflows = self.catalog.workflows
        weights = [w.stream_weight for w in workflows]
        if not any(weights):
            return None
        workflow = rng.choices(workflows, weights=weights)[0]
        return self.append(plan_run(rng, arrival, started_ms, workflow, self.last_of))

    def append(self, plan: RunPlan) -> RunPlan:
        """Append a planned run; it starts no earlier than every run before it."""
        self.last_of[plan.workflow.id] = plan.id
        self.plans.append(plan)
        self.starts.append(plan.started_ms)
        self.by_id[plan.id] = plan
        return plan

    def open(self) -> list[RunPlan]:
        """Runs still pending or running, oldest first."""
        now = self.clock.now_ms
        return [plan for plan in self.plans if plan.is_open(now)]

    def since(self, range_ms: int) -> list[RunPlan]:
        """Runs that started inside the rolling window, oldest first."""
        return self.plans[bisect.bisect_right(self.starts, self.clock.now_ms - range_ms):]

    def listed(
        self,
        range_ms: int,
        workflow_id: str | None = None,
        status: str | None = None,
        classification: str | None = None,
        search: str | None = None,
        newest_first: bool = True,
    ) -> list[RunPlan]:
        """The runs `/runs` lists for these filters, in the order asked (remembered per clock time)."""
        key = ("runs", range_ms, workflow_id, status, classification, search, newest_first)
        return self.clock.remembered(
            key, lambda: self._select(range_ms, workflow_id, status, classification, search, newest_first)
        )

    def _select(
        self,
        range_ms: int,
        workflow_id: str | None,
        status: str | None,
        classification: str | None,
        search: str | None,
        newest_first: bool,
    ) -> list[RunPlan]:
        """Filter the window's runs."""
        if workflow_id is None and status is None and classification is None and search is None:
            window = self.since(range_ms)  # what a loader asks for page after page
            return window[::-1] if newest_first else window
        now = self.clock.now_ms
        needle = search.casefold() if search else None
        chosen = [
            plan
            for plan in self.since(range_ms)
            if (workflow_id is None or plan.workflow.id == workflow_id)
            and (status is None or plan.status_at(now) == status)
            and (classification is None or (not plan.is_open(now) and plan.classification == classification))
            and (needle is None or needle in plan.workflow_name.casefold() or needle in plan.reason.casefold())
        ]
        return chosen[::-1] if newest_first else chosen

    def record(self, plan: RunPlan) -> records.Run:
        """A run as `/runs` shows it now."""
        now = self.clock.now_ms
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

    def detail(self, plan: RunPlan) -> records.RunDetail:
        """A run plus its judge and the evaluator's output (null until terminal)."""
        terminal = not plan.is_open(self.clock.now_ms)
        evaluation = self.evaluation(plan)
        return {
            **self.record(plan),
            "judge_model": plan.workflow.judge_model if terminal else None,
            "evaluator_output": {"verdict": evaluation["verdict"], "summary": evaluation["summary"]}
            if evaluation else None,
        }

    def children(self, plan: RunPlan) -> RunChildren:
        """The run's terminal spans and tool calls (the last few asked for are kept)."""
        found = self._children.get(plan.arrival)
        if found is None:
            found = run_children(seeded(self.seed, "children", plan.arrival), plan, self.text)
            self._children[plan.arrival] = found
            if len(self._children) > _CHILDREN_KEPT:
                self._children.popitem(last=False)
        return found

    def trace(self, plan: RunPlan) -> list[records.Span]:
        """The spans shown now: all of them once terminal, the started prefix before."""
        kids = self.children(plan)
        return kids.spans[: bisect.bisect_right(kids.span_starts, self.clock.now_ms)]

    def tool_calls(self, plan: RunPlan) -> list[records.ToolCall]:
        """The tool calls shown now: all of them once terminal, the started prefix before."""
        if self.clock.now_ms < plan.running_ms:
            return []
        kids = self.children(plan)
        return kids.tool_calls[: bisect.bisect_right(kids.call_starts, self.clock.now_ms)]

    def evaluation(self, plan: RunPlan) -> records.Evaluation | None:
        """The evaluation, or None while open and for error/timed_out runs.

        It has a seed of its own, so run detail can show the verdict without deriving spans.
        """
        if plan.is_open(self.clock.now_ms) or not plan.evaluated:
            return None
        return judge(seeded(self.seed, "evaluation", plan.arrival), plan, self.text)


def plan_run(
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
    return rng.choice(corpus.REASONS_MANUAL)
