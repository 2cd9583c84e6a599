"""The runs resource: the listing, then open runs re-read, then children asked again.

Fills `runs` and, through `run_children`, `trace_spans`, `tool_calls`, `evaluations` and
`evaluation_criteria`. A run's children are fetched once, when the run is first seen
terminal, so they travel with the run. The cursor (`run_book`) changes only after the rows
it speaks of were yielded (`job.after`).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Iterator

from armature_source import endpoints as api
from armature_source import tables as t
from armature_source.http.client import Missing
from armature_source.http.paging import iter_pages
from armature_source.load.coverage import children_unavailable, record_gap, window_gap
from armature_source.load.job import Job
from armature_source.load.progress import Progress
from armature_source.load.state import AwaitingRun, RunsState, resource_state
from armature_source.load.windows import pick_window
from armature_source.resources.run_book import Batch, RunBook
from armature_source.resources.run_children import Asked, ChildRows, Fetched, children_of, fetch
from armature_source.timestamps import iso, oldest, try_ts
from armature_source.vocabulary import OPEN_STATUSES, RUN_RANGES

log = logging.getLogger("armature_source")

DETAIL_ONLY_FIELDS = ("judge_model", "evaluator_output")
# batches whose children are in flight while the oldest is turned into tables
BATCHES_AHEAD = 2


def runs(job: Job) -> Iterator[Any]:
    """Runs, newest first, back to the high-water mark; then open runs re-read by id; then
    the children that earlier loads could not get, asked again."""
    load = job.load
    now = load.now()
    state: RunsState = resource_state()
    book = RunBook(state, now, load.horizon())
    backfill = load.config.sub_range  # (start, end): a sub-range, the cursors left alone
    if backfill is None:
        window = pick_window(RUN_RANGES, load.window_now(), book.mark, load.lookback)
    else:
        window = pick_window(RUN_RANGES, load.window_now(), backfill[0], timedelta(0))
    job.window = window
    log.info("runs: %s%s, %d open runs to re-check, %d runs awaiting children", window.describe(),
             f", only those started before {iso(backfill[1])}" if backfill and backfill[1] else "",
             len(book.open), len(book.awaiting))
    if window.gap:
        yield from record_gap(window_gap("runs", window, now))
    listed: set[str] = set()
    pages = 0
    progress = Progress("runs")
    job.client = client = progress.watch(job.client)  # every answer, and the listing's total
    ahead: deque[Started] = deque()
    try:
        # children of the next pages are on their way while a page is turned into tables
        for page in iter_pages(client, api.RUNS.path(), {"range": window.range, "sort": "-started_at"},
                               *api.RUNS.envelope,
                               last=lambda rows: _reaches(rows, listed, window.since)):
            if job.out_of_time(f"after {pages} pages of the runs listing"):
                break
            pages += 1
            rows = [_run_row(r) for r in page if str(r.get("id")) not in listed]
            listed.update(r["id"] for r in rows if t.RUNS.keyed(r))
            wanted = [r for r in rows if book.wants(r, window.since) and _in_range(r, backfill)]
            job.counts.skipped += len(rows) - len(wanted)
            if client.total is not None:  # n of the host's total when it says one, else pages
                progress.add("runs listed", len(rows), total=client.total)
            else:
                progress.add("pages listed")
            ahead.append(_start(job, book, wanted))
            if job.batch_done(ahead[-1].has_work):  # add_limit: the batches asked for are started
                break
            if len(ahead) > BATCHES_AHEAD:
                yield from _finish_counted(job, book, ahead.popleft(), progress)
        while ahead:
            yield from _finish_counted(job, book, ahead.popleft(), progress)
        yield from job.flush()  # the listing's changes are in the book before open runs are re-read
    finally:
        for started in ahead:
            started.children.cancel()
    stale = [run_id for run_id in book.open if run_id not in listed] if backfill is None else []
    if backfill is None and not job.out_of_time("before re-reading open runs"):
        yield from _deliver(job, book, _recheck(job, book, stale))
    if backfill is None and not job.out_of_time("before asking again for missing children"):
        yield from _ask_again(job, book, load.children_retry)
    yield from job.flush()
    # a listing cut short must not move the mark: the older runs it did not reach come next;
    # a backfill of a sub-range never moves it either
    book.save(load.lookback, advance=not job.stopped and backfill is None)
    progress.close()
    job.counts.pages, job.counts.listed, job.counts.vanished = pages, len(listed), book.vanished_now
    log.info(
        "runs: done, %d pages, %d listed, %d open re-checked, %d finished runs loaded with "
        "children, %d still open, %d awaiting children, %d vanished (404) and skipped",
        pages, len(listed), len(stale), book.finished_now, len(book.open), len(book.awaiting),
        book.vanished_now, extra={"rows": job.counts.loaded, "listed": len(listed), "pages": pages},
    )


def _in_range(row: dict[str, Any], backfill: tuple[datetime | None, datetime | None] | None) -> bool:
    """Whether a listed run is in the sub-range a backfill asked for (any run, without one)."""
    if backfill is None:
        return True
    started = try_ts(row.get("started_at"))
    start, end = backfill
    return started is not None and (start is None or started >= start) and (end is None or started < end)


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    for name in DETAIL_ONLY_FIELDS:
        row.pop(name, None)
    if row.get("id") is not None:
        row["id"] = str(row["id"])
    return row


def is_terminal(status: Any) -> bool:
    """A run status that never changes again (unknown statuses count as terminal)."""
    return status is not None and str(status) not in OPEN_STATUSES


def _recheck(job: Job, book: RunBook, run_ids: list[str]) -> list[dict[str, Any]]:
    """Open runs that left the listing, read again by id; the ones gone are forgotten."""
    rows = []
    batch = Batch()
    details = job.client.get_many((api.RUN.path(i), None) for i in run_ids)
    for run_id, detail in zip(run_ids, details, strict=True):
        if isinstance(detail, Missing):
            batch.drop(run_id)
            book.vanished_now += 1
        else:
            rows.append(_run_row(detail))
    job.after(partial(book.commit, batch))  # forgetting a vanished run delivers nothing
    return rows


def _reaches(rows: list[dict[str, Any]], listed: set[str], since: datetime | None) -> bool:
    """Whether a page's new runs reach back before `since`: the listing ends with it."""
    earliest = oldest(r.get("started_at") for r in rows if str(r.get("id")) not in listed)
    return bool(since and earliest and earliest < since)


@dataclass
class Started:
    """A batch of listed runs whose children are on their way."""

    out: list[dict[str, Any]]
    finished: list[dict[str, Any]]
    batch: Batch
    children: Asked

    @property
    def has_work(self) -> bool:
        """Whether the batch delivers anything: new or changed runs, or children to fetch."""
        return bool(self.out or self.finished)


def _deliver(job: Job, book: RunBook, rows: list[dict[str, Any]]) -> Iterator[Any]:
    """Yield the new or changed runs and the children of runs that ended, then commit."""
    yield from _finish(job, book, _start(job, book, rows))


def _finish_counted(job: Job, book: RunBook, started: "Started", progress: Progress) -> Iterator[Any]:
    yield from _finish(job, book, started)
    progress.add("finished runs loaded with children", len(started.batch.finished))


def _start(job: Job, book: RunBook, rows: list[dict[str, Any]]) -> Started:
    """Sort a batch of runs, and ask for the children of the ones that ended."""
    batch = Batch()
    out = []
    finished = []
    for row in rows:
        if not t.RUNS.keyed(row):
            out.append(row)  # no key: goes to rejected_records, nothing to fetch or remember
        elif is_terminal(row.get("status")):
            finished.append(row)
        elif book.open_changed(row):
            out.append(row)
            batch.open(row)
    children = Asked(job.client, [(r["id"], children_of(r)) for r in finished])
    return Started(out, finished, batch, children)


def _finish(job: Job, book: RunBook, started: Started) -> Iterator[Any]:
    """Yield a started batch's runs and children, then commit it.

    A terminal run whose children the host does not serve yet is loaded as listed and waits
    for them; only a run that is gone by id as well counts as vanished and is skipped.
    """
    batch, out, finished = started.batch, started.out, started.finished
    fetched = started.children.fetched()
    gone = _gone_by_id(job, [r["id"] for r, f in zip(finished, fetched, strict=True) if f.gone])
    children = ChildRows()
    lacking: dict[str, Fetched] = {}
    for row, got in zip(finished, fetched, strict=True):
        if row["id"] in gone:
            batch.drop(row["id"])
            book.vanished_now += 1
            continue
        children.add(row["id"], got.bodies)
        out.append(row)
        if got.lacking:
            lacking[row["id"]] = got
            batch.wait_for(row, sorted(got.lacking), iso(book.now) or "")
        else:
            batch.finish(row, book.now)
    _log_lacking(lacking)
    yield from children.items(job)
    yield from job.emit(t.RUNS, out)
    job.after(partial(book.commit, batch))


def _ask_again(job: Job, book: RunBook, retry: timedelta) -> Iterator[Any]:
    """Ask again for the children earlier loads could not get; give up after `retry`."""
    waiting = {k: v for k, v in book.awaiting.items() if k in book.awaited_before}
    if not waiting:
        return
    fetched = fetch(job.client, [(run_id, entry["missing"]) for run_id, entry in waiting.items()])
    gone = _gone_by_id(job, [run_id for run_id, f in zip(waiting, fetched, strict=True) if f.gone])
    batch = Batch()
    children = ChildRows()
    given_up: dict[str, list[str]] = {}
    for (run_id, entry), got in zip(waiting.items(), fetched, strict=True):
        children.add(run_id, got.bodies)
        if run_id in gone:
            batch.drop(run_id)
            book.vanished_now += 1
        elif not got.lacking:
            batch.finish({"id": run_id, "started_at": entry.get("started_at")}, book.now)
        elif _waited(entry, book.now) >= retry:
            given_up[run_id] = sorted(got.lacking)
            batch.drop(run_id)
        else:
            batch.wait_for({"id": run_id, **entry}, sorted(got.lacking), entry["since"])
    yield from children.items(job)
    if given_up:
        yield from record_gap(children_unavailable("runs", given_up, retry, book.now))
    job.after(partial(book.commit, batch))
    log.info("runs: asked again for the children of %d runs: %d complete, %d still waiting, "
             "%d given up", len(waiting), len(batch.finished), len(batch.awaiting), len(given_up))


def _gone_by_id(job: Job, run_ids: list[str]) -> set[str]:
    """The runs among `run_ids` that the host no longer serves by id either."""
    details = job.client.get_many((api.RUN.path(i), None) for i in run_ids)
    return {run_id for run_id, d in zip(run_ids, details, strict=True) if isinstance(d, Missing)}


def _waited(entry: AwaitingRun, now: datetime) -> timedelta:
    since = try_ts(entry.get("since"))
    return now - since if since else timedelta(0)


def _log_lacking(lacking: dict[str, Fetched], shown: int = 3) -> None:
    """One warning for the runs of a batch whose children the host did not serve."""
    if not lacking:
        return
    examples = "; ".join(
        f"{run_id}: " + ", ".join(f"{kind} ({why})" for kind, why in sorted(got.lacking.items()))
        for run_id, got in list(lacking.items())[:shown]
    )
    more = f" and {len(lacking) - shown} more" if len(lacking) > shown else ""
    log.warning("runs: %d terminal runs are loaded as listed without all their children "
                "(%s%s); the missing children are asked for again on later loads",
                len(lacking), examples, more)
