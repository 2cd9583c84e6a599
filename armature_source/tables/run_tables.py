"""Tables of workflow runs and what each finished run leaves: trace, tool calls, evaluation."""

from __future__ import annotations

from armature_source.tables.table import table
from armature_source.vocabulary import RUN_STATUSES, VERDICT_STATUSES

_RUN = ("runs", ("run_id",), ("id",))
_RUN_ID = ("text", "The run this row belongs to; see `runs.id`.")
_CLASSIFICATIONS = ("expected", "regression", "flaky", "infrastructure")

RUNS = table(
    "runs",
    "One row per workflow run (GET /runs, GET /runs/{id}); appears when first seen and is "
    "updated until the run is terminal, then never changes; merged on `id`.",
    ("id",),
    id=("text", "Run id (`id`)."),
    workflow_id=("text", "The workflow that ran; see `workflows.id` (`workflow_id`)."),
    workflow_name=("text", "Workflow name when the run started (`workflow_name`)."),
    workflow_version_id=("text", "Workflow version that ran (`workflow_version_id`)."),
    mcp_server_id=("text", "The MCP source tested; see `mcp_servers.id` (`mcp_server_id`)."),
    status=("text", "pending, running (open), then pass, partial, fail, error or timed_out "
                    "(`status`).", RUN_STATUSES),
    classification=("text", "The judge's reading of the outcome: expected, regression, flaky "
                            "or infrastructure; null until terminal (`classification`).", _CLASSIFICATIONS),
    trigger=("text", "What started the run: scheduled, manual or api (`trigger`).",
             ("scheduled", "manual", "api")),
    model=("text", "Tester model of the run (`model`)."),
    started_at=("timestamp", "When the run started, UTC (`started_at`)."),
    ended_at=("timestamp", "When it ended, UTC; null until terminal (`ended_at`)."),
    duration_ms=("bigint", "Run time in milliseconds; null until terminal (`duration_ms`)."),
    cost_usd=("double", "Cost of the run in US dollars; null until terminal (`cost_usd`)."),
    tool_call_count=("bigint", "Tool calls the run made so far (`tool_call_count`)."),
    baseline_run_id=("text", "Run it is compared against, if any; see `runs.id` "
                             "(`baseline_run_id`)."),
    reason=("text", "Why it was run, as shown in the dashboard (`reason`)."),
)
TRACE_SPANS = table(
    "trace_spans",
    "One row per span of a terminal run's trace (GET /runs/{id}/trace); loaded once the run "
    "is terminal; merged on `run_id, id`.",
    ("run_id", "id"), parent=_RUN,
    run_id=_RUN_ID,
    id=("text", "Span id, unique within its run (`spans[].id`)."),
    parent_id=("text", "Enclosing span's id; null at the root (`spans[].parent_id`)."),
    name=("text", "Span name (`spans[].name`)."),
    kind=("text", "agent, llm, tool or judge (`spans[].kind`).", ("agent", "llm", "tool", "judge")),
    status=("text", "ok or error (`spans[].status`).", ("ok", "error")),
    started_at=("timestamp", "When the span started, UTC (`spans[].started_at`)."),
    ended_at=("timestamp", "When it ended, UTC (`spans[].ended_at`)."),
    duration_ms=("bigint", "Span time in milliseconds (`spans[].duration_ms`)."),
    attributes=("json", "Open-ended JSON: model, token counts, tool_name... kept as sent "
                        "(`spans[].attributes`)."),
)
TOOL_CALLS = table(
    "tool_calls",
    "One row per tool call of a terminal run (GET /runs/{id}/tool-calls); loaded once the "
    "run is terminal; merged on `run_id, id`.",
    ("run_id", "id"), parent=_RUN,
    run_id=_RUN_ID,
    id=("text", "Tool call id, unique within its run (`rows[].id`)."),
    seq=("bigint", "Order of the call in the run, from 0 (`seq`)."),
    span_id=("text", "The trace span of the call; see `trace_spans.id` (`span_id`)."),
    tool_name=("text", "Name of the MCP tool called (`tool_name`)."),
    arguments=("json", "Arguments the tester passed, open-ended JSON kept as sent (`arguments`)."),
    result=("json", "What the tool returned, any JSON up to about 64 KiB (`result`)."),
    is_error=("bool", "Whether the call failed (`is_error`)."),
    error_message=("text", "The error, when it failed (`error_message`)."),
    started_at=("timestamp", "When the call started, UTC (`started_at`)."),
    duration_ms=("bigint", "Call time in milliseconds (`duration_ms`)."),
)
EVALUATIONS = table(
    "evaluations",
    "One row per evaluated run, terminal with a verdict (GET /runs/{id}/evaluation); "
    "merged on `run_id`.",
    ("run_id",), parent=_RUN,
    run_id=_RUN_ID,
    verdict=("text", "The judge's verdict: pass, partial or fail (`verdict`).",
             tuple(sorted(VERDICT_STATUSES))),
    classification=("text", "expected, regression, flaky or infrastructure (`classification`).",
                    _CLASSIFICATIONS),
    judge_model=("text", "Model that judged the run (`judge_model`)."),
    summary=("text", "The judge's summary (`summary`)."),
)
EVALUATION_CRITERIA = table(
    "evaluation_criteria",
    "One row per criterion result of an evaluation (`criteria[]` of GET "
    "/runs/{id}/evaluation); loaded with its evaluation; merged on `run_id, criterion_id`.",
    ("run_id", "criterion_id"), parent=("evaluations", ("run_id",), ("run_id",)),
    run_id=("text", "The evaluated run; see `evaluations.run_id` and `runs.id`."),
    criterion_id=("text", "The workflow criterion judged (`criteria[].criterion_id`)."),
    text=("text", "The criterion as written (`criteria[].text`)."),
    is_required=("bool", "Whether the run must meet it to pass (`criteria[].is_required`)."),
    verdict=("text", "pass, fail or skipped (`criteria[].verdict`).", ("pass", "fail", "skipped")),
    score=("double", "Score from 0 to 1 (`criteria[].score`)."),
    rationale=("text", "Why the judge decided so (`criteria[].rationale`)."),
    excerpts=("json", "Quotes from the run backing it, a JSON array of strings "
                      "(`criteria[].excerpts`)."),
)
