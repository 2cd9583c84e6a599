"""What the dashboard says, read as a person reads it: a flaky tile that moves, whole criterion
labels, tables without `NaT` or float load ids, filters that narrow every chart, and an
export that names no path of the machine."""

from __future__ import annotations

import html
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from armature_analytics.dashboard.content import Board, build
from armature_analytics.dashboard.export import render, svg
from armature_analytics.dashboard.filters import EVERYTHING, Filters
from armature_analytics.health import LOAD_LEDGER
from armature_analytics.reader import connect
from tests.support.dashboard_truth import (
    RUN_CHARTS,
    a_filter,
    expected_flaky_recently,
    expected_marks,
    expected_pass_rate,
    export,
)
from tests.support.warehouse import DATASET, Warehouse


def board_of(path: Path, filters: Filters = EVERYTHING) -> Board:
    with connect(path, DATASET) as con:
        return build(con, filters)


def marks(drawn: str) -> int:
    groups = re.findall(r'<g class="mark-(?:rect|line|symbol) role-mark[^"]*"[^>]*>(.*?)</g>', drawn, re.S)
    return sum(group.count("<path") for group in groups)


def test_the_flaky_tile_counts_workflows_flaky_in_the_last_7_days(sample_warehouse: Warehouse) -> None:
    today = datetime.now(timezone.utc).date()
    board = board_of(sample_warehouse.read_copy().db_path)
    tile = next(k for k in board.kpis if k.id == "flaky-workflows")
    assert tile.label == "workflows flaky in the last 7 days"
    assert tile.value == str(expected_flaky_recently(sample_warehouse, today))
    ever = sample_warehouse.query("select count(distinct workflow_id) from runs where classification = 'flaky'")[0][0]
    week_ago = today - timedelta(days=7)
    earlier = board_of(sample_warehouse.read_copy().db_path, Filters(end=week_ago))
    moved = next(k for k in earlier.kpis if k.id == "flaky-workflows")
    assert moved.value == str(expected_flaky_recently(sample_warehouse, week_ago))
    assert moved.label == f"workflows flaky in the 7 days to {week_ago:%d %b}"
    assert int(tile.value) < ever or int(moved.value) < ever, "a window, not every flaky run ever"


def test_filters_narrow_every_run_chart_the_sessions_and_the_headline_numbers(
    sample_warehouse: Warehouse,
) -> None:
    filters, kept = a_filter(sample_warehouse)
    whole = expected_marks(sample_warehouse)
    narrowed = expected_marks(sample_warehouse, kept)
    board = board_of(sample_warehouse.read_copy().db_path, filters)
    drawn = {chart_id: marks(svg(chart)) for chart_id, chart in board.charts().items()}
    for chart_id in (*RUN_CHARTS, "session_outcomes"):
        assert drawn.get(chart_id, 0) == narrowed[chart_id], chart_id
    assert any(narrowed[c] < whole[c] for c in RUN_CHARTS), "the filter kept less than everything"
    assert narrowed["session_outcomes"] < whole["session_outcomes"]
    assert next(k for k in board.kpis if k.id == "pass-rate").value == expected_pass_rate(sample_warehouse, kept)
    assert drawn["load_ledger"] == whole["load_ledger"], "the load health is never narrowed"
    page = render(board)
    assert f"workflow {html.escape(kept.workflow or '')}" in page and f"{filters.start:%d %b} - " in page


def test_criterion_labels_are_whole_and_tables_hold_no_nat_or_float_load_ids(
    sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    path = tmp_path / "odd_read.duckdb"
    shutil.copy(sample_warehouse.read_copy().db_path, path)
    with duckdb.connect(str(path)) as con:  # a ledger row of a load that never finished
        con.execute(f"use {path.stem}.{DATASET}")
        con.execute(f"insert into {LOAD_LEDGER.name} (load_id, resource, started_at, finished_at, "
                    "rows_loaded, _dlt_load_id) "
                    "values ('1796146600.6470907', 'runs', now(), null, null, '1796146600.6470907')")
    board = board_of(path)
    chart = board.charts()["failing_criteria"]
    drawn = re.sub(r"\s", "", html.unescape(re.sub(r"<[^>]+>", "", svg(chart))))
    texts = set(chart.data.criterion_text)
    assert texts and max(map(len, texts)) > 40, "labels longer than the old cut are checked"
    assert {t for t in texts if re.sub(r"\s", "", t) not in drawn} == set(), "each label whole"
    page = render(board)
    assert "NaT" not in page and ">nan<" not in page
    ledger = page.split('data-table="load_ledger"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>([^<]*)</td>", ledger)
    assert "1796146600.6470907" in cells
    loads = {lid for (lid,) in sample_warehouse.query(f"select distinct load_id from {LOAD_LEDGER.name}")}
    assert loads <= set(cells), "every load id as dlt wrote it"


def test_the_export_names_no_path_of_the_machine(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    page = export(sample_warehouse, tmp_path / "board.html", DATASET).read_text()
    copy = sample_warehouse.read_copy().db_path
    assert str(copy.parent) not in page and str(Path.home()) + "/" not in page
    assert f"in {copy.name};" in page
