"""The source as a dlt user drives it: add_limit walks the window in whole batches, a clean load
logs no dlt warning, the reporting views read through `pipeline.dataset()`, and a sub-range of
the 30 days loads as a backfill that leaves the cursors alone."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from armature_analytics import apply_views
from armature_source.timestamps import iso, parse_ts
from tests.support.runs_world import RUN_TABLES, WORLD, loaded_whole, runs_only
from tests.support.warehouse import Warehouse


def test_a_loop_of_add_limit_1_walks_the_window_in_whole_batches_and_ends_equal_to_one_full_load(
    sim: Any, tmp_path: Path,
) -> None:
    full = loaded_whole(sim, tmp_path / "full")
    looped = Warehouse(tmp_path / "looped")
    pages = math.ceil(len(sim.control.truth()["runs"]) / 100)
    loads = 0
    while loads <= pages + 2:
        loads += 1
        looped.pipeline().run(runs_only(sim).add_limit(1))
        counts = looped.pipeline().last_trace.last_normalize_info.row_counts
        if loads == 1:  # one whole batch: a page of runs with the children of the ended ones
            assert counts["runs"] == 100 and counts["trace_spans"] > 0, counts
        if not any(counts.get(table) for table in RUN_TABLES):
            break
    assert 1 < loads <= pages + 2, f"{loads} loads for {pages} pages"
    for table in RUN_TABLES:
        assert looped.content(table) == full.content(table), table


@pytest.fixture
def dlt_warnings() -> Iterator[list[logging.LogRecord]]:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep(logging.WARNING)
    logging.getLogger("dlt").addHandler(handler)
    try:
        yield seen
    finally:
        logging.getLogger("dlt").removeHandler(handler)


def test_a_clean_load_by_a_library_user_logs_no_dlt_warning(
    sim: Any, tmp_path: Path, dlt_warnings: list[logging.LogRecord],
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    sim.control.advance(minutes=30)
    wh.load(sim)
    assert [r.getMessage() for r in dlt_warnings] == []


def test_the_reporting_views_read_through_pipeline_dataset_like_tables(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    pipeline = wh.pipeline()
    views = apply_views(pipeline)
    assert "flaky_workflows" in views
    dataset = pipeline.dataset()
    frame = dataset.flaky_workflows.df()
    rows = wh.query("select * from flaky_workflows")
    assert len(frame) == len(rows) > 0
    named = dataset("select workflow_name, flaky_runs from flaky_workflows").df()
    assert sorted(named["workflow_name"]) == sorted(r[0] for r in wh.query("select workflow_name from flaky_workflows"))
    for view in views:  # every view, not only one
        assert len(dataset.table(view).df()) == wh.query(f"select count(*) from {view}")[0][0], view


def test_a_sub_range_loads_exactly_its_runs_with_their_children_and_leaves_the_cursors_alone(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    truth = sim.control.truth()
    now = parse_ts(truth["now"])
    assert now is not None
    start, end = now - timedelta(days=9), now - timedelta(days=2)
    inside = [r for r in truth["runs"] if start <= (parse_ts(r["started_at"]) or now) < end]
    assert 10 < len(inside) < len(truth["runs"]) - 10, "the sub-range should be a real part"
    wh = Warehouse(tmp_path)
    wh.pipeline().run(runs_only(sim, start_date=iso(start), end_date=iso(end)))
    assert wh.ids("runs") == {r["id"] for r in inside}
    terminal = [r for r in inside if r["terminal"]]
    assert wh.count("trace_spans") == sum(r["spans"] for r in terminal)
    assert wh.count("tool_calls") == sum(r["tool_calls"] for r in terminal)
    state = wh.pipeline().state["sources"]["armature"]["resources"]["runs"]
    assert "mark" not in state, "a backfill leaves the cursor where it was"
    wh.pipeline().run(runs_only(sim))  # then the usual load: everything the host serves
    assert wh.ids("runs") == {r["id"] for r in truth["runs"]}
