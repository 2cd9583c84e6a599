"""The dashboard's charts: one Vega-Lite (altair) chart per panel, drawn from its rows.

The same chart is drawn twice: by the live app's Vega in the browser, and as SVG by
vl-convert for the static export. Charts are told to render as SVG in the browser too, so
both show the same marks. Days are labelled `28 Nov`, as categories: a single day is then one
bar or point in the middle of its axis, not a dot on an axis of years.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd

from armature_analytics.health import LEDGER_RESOURCE, LEDGER_ROWS, LOAD_LEDGER

WIDTH = 560
EMBED = {"renderer": "svg", "actions": False}
FONT = "Helvetica, Arial, sans-serif"  # system fonts only: nothing to fetch

Chart = Any  # an altair chart: Chart, LayerChart or VConcatChart


def _finish(chart: Any, title: str, subtitle: str | None = None) -> Any:
    heading = alt.TitleParams(title, subtitle=subtitle or [], anchor="start", fontSize=14)
    return (
        chart.properties(title=heading, usermeta={"embedOptions": EMBED})
        .configure(font=FONT)
        .configure_view(stroke=None)
        .configure_legend(orient="right")
    )


def _days(frame: pd.DataFrame, column: str = "day") -> tuple[pd.DataFrame, list[str]]:
    """The frame with a `day_label` column (`28 Nov`), and the labels in date order."""
    frame = frame.copy()
    days = pd.to_datetime(frame[column])
    frame["day_label"] = days.dt.strftime("%d %b")
    order = list(dict.fromkeys(frame.sort_values(column)["day_label"]))
    return frame, order


def _bars(frame: pd.DataFrame, label: str, value: str, axis_title: str, fmt: str,
          tooltip: list[Any], height_per_bar: int = 22, label_axis: Any = None) -> Any:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=axis_title, axis=alt.Axis(format=fmt, tickCount=5)),
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=label_axis or alt.Axis(labelLimit=260)),
        tooltip=tooltip,
    ).properties(width=WIDTH - 200, height=max(60, height_per_bar * len(frame)))


LINE_CHARS = 44  # a label line: about 260 px of 11 px Helvetica


def wrapped(text: str) -> str:
    """A long label as lines of at most `LINE_CHARS` characters, split at spaces, never cut."""
    return "\n".join(textwrap.wrap(text, LINE_CHARS, break_long_words=False)) or text


def pass_rate_daily(frame: pd.DataFrame) -> Any:
    frame, order = _days(frame)
    base = alt.Chart(frame).encode(
        x=alt.X("day_label:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45)))
    line = base.mark_line(point=True).encode(
        y=alt.Y("pass_rate:Q", title="pass rate", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=["day_label", alt.Tooltip("pass_rate:Q", format=".1%"), "judged_runs", "left_out"],
    ).properties(width=WIDTH, height=180)
    return _finish(line, "Pass rate of judged runs, all workflows, by day",
                   "pass / (pass + partial + fail); error and timed-out runs are left out")


def pass_rate_by_workflow(frame: pd.DataFrame) -> Any:
    chart = _bars(frame, "workflow_name", "pass_rate", "pass rate", "%",
                  ["workflow_name", alt.Tooltip("pass_rate:Q", format=".1%"), "judged_runs"])
    return _finish(chart, "Pass rate by workflow", "lowest first")


def flakiness(frame: pd.DataFrame) -> Any:
    chart = _bars(frame, "workflow_name", "flaky_share", "share of judged runs classified flaky", "%",
                  ["workflow_name", "flaky_runs", "judged_runs",
                   alt.Tooltip("verdict_change_rate:Q", format=".1%")])
    return _finish(chart, "Flaky workflows", "runs the judge classified flaky")


def failing_criteria(frame: pd.DataFrame) -> Any:
    """A bar per criterion, labelled with its whole text and then its workflow, on lines."""
    labels = [f"{wrapped(text)}\n({workflow})" for text, workflow in
              zip(frame.criterion_text, frame.workflow_name, strict=True)]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    frame = frame.assign(criterion=labels)
    axis = alt.Axis(labelExpr="split(datum.label, '\\n')", labelLimit=0, labelPadding=6)
    chart = _bars(frame, "criterion", "failed", "failed evaluations", "d",
                  ["workflow_name", "criterion_text", "failed", "evaluations",
                   alt.Tooltip("fail_rate:Q", format=".1%")], height_per_bar=13 * lines + 10, label_axis=axis)
    return _finish(chart, "Criteria that fail most", "top 10 by failed verdicts")


def tool_reliability(frame: pd.DataFrame) -> Any:
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("error_rate:Q", title="share of calls that errored", axis=alt.Axis(format="%")),
        y=alt.Y("tool_name:N", title=None, sort="-x"),
        yOffset=alt.YOffset("source:N"),
        color=alt.Color("source:N", title="where"),
        tooltip=["source", "tool_name", "calls", "errors", alt.Tooltip("error_rate:Q", format=".1%"),
                 "p50_duration_ms", "p95_duration_ms"],
    ).properties(width=WIDTH - 260, height=max(80, 14 * len(frame)))
    return _finish(chart, "Tool reliability", "in workflow runs and in MCP sessions")


def cost(frame: pd.DataFrame) -> Any:
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("sum(total_cost_usd):Q", title="USD, finished runs", axis=alt.Axis(format="$,.2f")),
        y=alt.Y("workflow_name:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
        color=alt.Color("model:N", title="tester model"),
        tooltip=["workflow_name", "model", "finished_runs",
                 alt.Tooltip("total_cost_usd:Q", format="$,.2f"),
                 alt.Tooltip("cost_per_pass_usd:Q", format="$,.3f")],
    ).properties(width=WIDTH - 300, height=max(80, 22 * frame.workflow_name.nunique()))
    return _finish(chart, "Cost by workflow and tester model")


def topic_trends(frame: pd.DataFrame) -> Any:
    if frame["day"].nunique() <= 1:
        day = pd.to_datetime(frame["day"]).max()
        chart = _bars(frame.sort_values("session_count", ascending=False), "label", "session_count",
                      "sessions", "d", ["label", "session_count", "trend"])
        when = f"{day:%d %b %Y}" if pd.notna(day) else "no snapshot yet"
        return _finish(chart, "Topic trends, 7 days before the snapshot",
                       f"one snapshot so far ({when}): lines appear from the second day on")
    frame, order = _days(frame)
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("day_label:O", sort=order, title="snapshot day", axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("session_count:Q", title="sessions in the 7 days before"),
        color=alt.Color("label:N", title="topic"),
        tooltip=["day_label", "label", "session_count", "session_count_change", "trend"],
    ).properties(width=WIDTH - 200, height=200)
    return _finish(chart, "Topic trends", "sessions per topic in the 7 days before each snapshot")


def unmet_demand(frame: pd.DataFrame) -> Any:
    chart = _bars(frame, "label", "session_count", "sessions (Armature's count)", "d",
                  ["label", "session_count", "counts_range", "sessions_loaded", "example_intent"])
    return _finish(chart, "Unmet demand", "topics asking for something the server cannot do")


def failed_searches(frame: pd.DataFrame) -> Any:
    frame = frame.assign(gap=frame.suggested_gap.fillna(frame["query"]))
    chart = _bars(frame, "gap", "occurrences", "occurrences", "d",
                  ["query", "suggested_gap", "occurrences", "session_count"])
    return _finish(chart, "Failed-search gaps", "top 10 searches that came back empty")


def session_outcomes(frame: pd.DataFrame, span: str) -> Any:
    frame, order = _days(frame)
    long = frame.melt(id_vars=["day_label"], value_vars=["clean_sessions", "sessions_with_errors"],
                      var_name="outcome", value_name="count")
    long = long[long["count"] > 0].replace(
        {"outcome": {"clean_sessions": "clean", "sessions_with_errors": "with errors"}})
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("day_label:O", sort=order, title="start day", axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("sum(count):Q", title="sessions"),
        color=alt.Color("outcome:N", title="outcome",
                        scale=alt.Scale(domain=["clean", "with errors"], range=["#4c78a8", "#f58518"])),
        tooltip=["day_label", "outcome", "count"],
    ).properties(width=WIDTH, height=180)
    return _finish(chart, f"Session outcomes by start day ({int(frame.sessions.sum())} sessions loaded)",
                   span)


def ledger_rows(frame: pd.DataFrame) -> Any:
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{LEDGER_ROWS}:Q", title="rows loaded"),
        y=alt.Y(f"{LEDGER_RESOURCE}:N", title=None, sort="-x"),
        tooltip=[c for c in LOAD_LEDGER.columns if c in frame.columns and not c.endswith(("_at", "_since"))],
    ).properties(width=WIDTH - 200, height=max(60, 22 * len(frame)))
    return _finish(chart, "Rows loaded per resource, last load")


CHARTS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "pass_rate_daily": pass_rate_daily,
    "pass_rate_by_workflow": pass_rate_by_workflow,
    "flakiness": flakiness,
    "failing_criteria": failing_criteria,
    "tool_reliability": tool_reliability,
    "cost": cost,
    "topic_trends": topic_trends,
    "unmet_demand": unmet_demand,
    "failed_searches": failed_searches,
}
