"""The runs resource: the listing, the runs cursor, and the children of finished runs.

Fills `runs`, `trace_spans`, `tool_calls`, `evaluations` and `evaluation_criteria`. A run's
trace, tool calls and evaluation are fetched once, when the run is first seen terminal, so
they travel with the run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterator

import dlt

from armature_source import tables as t
from armature_source.client import Missing
from armature_source.columns import routed
from armature_source.context import Load
from armature_source.coverage import record_gap, window_gap
from armature_source.paging import iter_pages, pick_rows
from armature_source.timestamps import at_or_after, iso, oldest, parse_ts
from armature_source.vocabulary import OPEN_STATUSES, RUN_RANGES, VERDICT_STATUSES
from armature_source.windows import EDGE_MARGIN, pick_window

log = logging.getLogger("armature_source")

DETAIL_ONLY_FIELDS = ("judge_model", "evaluator_output")
PROGRESS_EVERY_PAGES = 10


def runs(load: Load) -> Iterator[Any]:
    """Runs, newest first, back to the high-water mark; then open runs re-read by id.

    Runs still pending or running are remembered and re-read until they end.
    """
    book = RunBook(dlt.current.resource_state())
    now = load.now()
    window = pick_window(RUN_RANGES, now, book.mark, load.lookback)
    log.info("runs: %s, %d open runs to re-check", window.describe(), len(book.open))
    if window.gap:
        yield record_gap(window_gap("runs", window, now))
    listed: set[str] = set()
    pages = 0
    params = {"range": window.range, "sort": "-started_at"}
    for page in iter_pages(load.client, "/runs", params, "runs"):
        pages += 1
        rows = [_run_row(r) for r in page if str(r.get("id")) not in listed]
        listed.update(r["id"] for r in rows)
        yield from _emit(load, book, [r for r in rows if book.wants(r, window.since)])
        if pages % PROGRESS_EVERY_PAGES == 0:
            log.info("runs: %d pages, %d runs listed, %d finished runs loaded",
                     pages, len(listed), book.finished_now)
        earliest = oldest(r.get("started_at") for r in rows)
        if window.since and earliest and earliest < window.since:
            break
    stale = [run_id for run_id in book.open if run_id not in listed]
    yield from _emit(load, book, _recheck(load, book, stale))
    book.save(load.lookback)
    log.info(
        "runs: done, %d pages, %d listed, %d open re-checked, %d finished runs loaded with "
        "children, %d still open, %d vanished (404) and skipped",
        pages, len(listed), len(stale), book.finished_now, len(book.open), book.vanished_now,
    )


def _recheck(load: Load, book: "RunBook", run_ids: list[str]) -> list[dict[str, Any]]:
    """Open runs that left the listing, read again by id; the ones gone are vanished."""
    rows = []
    for run_id, detail in zip(run_ids, load.client.get_many((f"/runs/{i}", None) for i in run_ids)):
        if isinstance(detail, Missing):
            book.vanish(run_id)
        else:
            rows.append(_run_row(detail))
    return rows


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    for name in DETAIL_ONLY_FIELDS:
        row.pop(name, None)
    row["id"] = str(row["id"])
    return row


def is_terminal(status: Any) -> bool:
    """A run status that never changes again (unknown statuses count as terminal)."""
    return status is not None and str(status) not in OPEN_STATUSES


def _emit(load: Load, book: "RunBook", rows: list[dict[str, Any]]) -> Iterator[Any]:
    """Yield the rows that are new or changed, and the children of runs that just ended."""
    out: list[dict[str, Any]] = []
    finished: list[dict[str, Any]] = []
    for row in rows:
        if is_terminal(row.get("status")):
            finished.append(row)
        elif book.note_open(row):
            out.append(row)
    children = RunChildren()
    for row, parts in zip(finished, _fetch_children(load, finished)):
        if parts is None:
            book.vanish(row["id"])
            continue
        children.add(row["id"], *parts)
        book.finish(row)
        out.append(row)
    if out:
        yield routed(t.RUNS, out)
    yield from children.items()


def _fetch_children(load: Load, finished: list[dict[str, Any]]) -> Iterator[tuple[Any, Any, Any] | None]:
    """For each finished run: (trace, tool calls, evaluation) bodies, or None if it vanished."""
    requests: list[tuple[str, None]] = []
    for row in finished:
        base = f"/runs/{row['id']}"
        requests += [(f"{base}/trace", None), (f"{base}/tool-calls", None)]
        if row.get("status") in VERDICT_STATUSES:
            requests.append((f"{base}/evaluation", None))
    bodies = load.client.get_many(requests)
    for row in finished:
        trace, calls = next(bodies), next(bodies)
        evaluation = next(bodies) if row.get("status") in VERDICT_STATUSES else None
        if isinstance(trace, Missing) or isinstance(calls, Missing):
            yield None
            continue
        if isinstance(evaluation, Missing):
            evaluation = None
        yield trace, calls, evaluation


class RunChildren:
    """Collects the child rows of a batch of finished runs into one Arrow table per table."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.criteria: list[dict[str, Any]] = []

    def add(self, run_id: str, trace: Any, calls: Any, evaluation: Any) -> None:
        self.spans += [{**s, "run_id": run_id} for s in pick_rows(trace, "spans")]
        self.calls += [{**c, "run_id": run_id} for c in pick_rows(calls, "tool_calls")]
        if evaluation is not None:
            criteria = evaluation.pop("criteria", None) or []
            self.evaluations.append({**evaluation, "run_id": run_id})
            self.criteria += [{**c, "run_id": run_id} for c in criteria]

    def items(self) -> Iterator[Any]:
        for table, rows in (
            (t.TRACE_SPANS, self.spans), (t.TOOL_CALLS, self.calls),
            (t.EVALUATIONS, self.evaluations), (t.EVALUATION_CRITERIA, self.criteria),
        ):
            if rows:
                yield routed(table, rows)


class RunBook:
    """The runs cursor, kept in dlt's resource state.

    - `mark`: the newest `started_at` seen; the next load reads back to `mark - lookback`.
    - `open`: runs seen pending/running, `{id: [started_at, status]}`, re-read until terminal
      even after they leave the window.
    - `done`: terminal runs inside the overlap the next load re-lists, `{id: started_at}`,
      so their children are never fetched twice.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.mark = parse_ts(state.get("mark"))
        self.open: dict[str, list[Any]] = state.setdefault("open", {})
        self.done: dict[str, str] = state.setdefault("done", {})
        self.finished_now = 0
        self.vanished_now = 0
        self._newest = self.mark

    def wants(self, row: dict[str, Any], since: datetime | None) -> bool:
        """Whether a listed run needs handling: inside the span read, or one still open."""
        run_id = row["id"]
        started = parse_ts(row.get("started_at"))
        if started and (self._newest is None or started > self._newest):
            self._newest = started
        if run_id in self.done:
            return False
        return run_id in self.open or since is None or (started is not None and started >= since)

    def note_open(self, row: dict[str, Any]) -> bool:
        """Remember an open run; True if it is new or its status changed."""
        entry = [row.get("started_at"), row.get("status")]
        if self.open.get(row["id"]) == entry:
            return False
        self.open[row["id"]] = entry
        return True

    def finish(self, row: dict[str, Any]) -> None:
        self.open.pop(row["id"], None)
        self.done[row["id"]] = str(row.get("started_at"))
        self.finished_now += 1

    def vanish(self, run_id: str) -> None:
        """A run answered 404 between list and detail: forget it, count it."""
        self.open.pop(run_id, None)
        self.vanished_now += 1

    def save(self, lookback: timedelta) -> None:
        """Advance the mark and drop `done` entries the next load will not list again."""
        if self._newest is not None:
            self.state["mark"] = iso(self._newest)
            horizon = self._newest - lookback - EDGE_MARGIN
            for run_id in [k for k, v in self.done.items() if not at_or_after(v, horizon)]:
                del self.done[run_id]
