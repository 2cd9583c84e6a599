"""What is stored about one run: its plan, fixed at arrival, and what it shows at a given time."""

from __future__ import annotations

from dataclasses import dataclass

from armature_sim.vocabulary import VERDICTS
from armature_sim.world.catalog import McpServer, Workflow, WorkflowVersion


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
