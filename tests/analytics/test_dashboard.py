"""The dashboard's content and its static export, read from the sample warehouse."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from armature_analytics import health
from armature_analytics.health import (
    LEDGER_LOAD,
    LEDGER_RESOURCE,
    LEDGER_ROWS,
    LOAD_LEDGER,
    REJECTED_KEY,
    REJECTED_RECORDS,
)
from armature_analytics.reader import connect
from tests.support.dashboard_truth import dashboard, expected_cost, expected_marks, expected_pass_rate, export
from tests.support.holder import held_for_writing
from tests.support.warehouse import DATASET, Warehouse

if TYPE_CHECKING:
    from armature_analytics.dashboard.content import Board, Panel

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def board_of(warehouse: Warehouse | Path) -> Board:
    from armature_analytics.dashboard.content import build

    path = warehouse.read_copy().db_path if isinstance(warehouse, Warehouse) else warehouse
    with connect(path, DATASET) as con:
        return build(con)


def svg(chart: Any) -> str:
    from armature_analytics.dashboard.export import svg as draw

    return draw(chart)


def panel(board: Board, panel_id: str) -> Panel:
    return next(p for s in board.sections for p in s.panels if p.id == panel_id)


def test_the_export_is_one_file_that_needs_nothing_else(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    html = export(sample_warehouse, tmp_path / "board.html", DATASET).read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"\b(?:src|href|srcset|xlink:href)\s*=", html), "nothing is linked"
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= NAMESPACES
    drawn = set(re.findall(r'<figure data-chart="([a-z_]+)"><svg', html))
    assert drawn == set(expected_marks(sample_warehouse))


def test_the_headline_numbers_are_the_warehouse_s_own(sample_warehouse: Warehouse) -> None:
    board = board_of(sample_warehouse)
    shown = {k.id: k.value for k in board.kpis}
    assert shown["pass-rate"] == expected_pass_rate(sample_warehouse)
    assert shown["cost"] == expected_cost(sample_warehouse)
    assert shown["sessions"] == f"{sample_warehouse.count('sessions'):,}"
    last = sample_warehouse.query("select max(inserted_at) from _dlt_loads where status = 0")[0][0]
    assert f"({last.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC)" in shown["freshness"]


def marks(svg: str) -> int:
    """Data marks in a Vega SVG: the paths of its bar, line and point marks (not axes, legends)."""
    groups = re.findall(r'<g class="mark-(?:rect|line|symbol) role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    return sum(group.count("<path") for group in groups)


def test_each_exported_chart_draws_a_mark_per_row_of_the_warehouse(sample_warehouse: Warehouse) -> None:
    board = board_of(sample_warehouse)
    for chart_id, expected in expected_marks(sample_warehouse).items():
        drawn = marks(svg(board.charts()[chart_id]))
        assert drawn == expected, f"{chart_id}: {drawn} marks, the warehouse says {expected}"


def test_load_health_says_no_ledger_yet_when_its_tables_are_absent(
    sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    # a warehouse loaded by a version of the source before the ledger and rejected_records
    path = tmp_path / "older.duckdb"
    shutil.copy(sample_warehouse.db_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"use {path.stem}.{DATASET}")
        con.execute(f"drop table {LOAD_LEDGER.name}")
        con.execute(f"drop table {REJECTED_RECORDS.name}")
    board = board_of(path)
    assert (panel(board, "load_ledger").empty or "").startswith("no ledger yet")
    assert panel(board, "rejected_records").empty == "no rejected_records table yet"
    gaps = panel(board, "coverage_gaps").table
    assert gaps is not None and len(gaps) == sample_warehouse.count("coverage_gaps")


def test_load_health_shows_the_ledger_and_rejected_records_when_present(
    sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    path = tmp_path / "with_rejects.duckdb"
    shutil.copy(sample_warehouse.db_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"use {path.stem}.{DATASET}")
        con.execute(f"insert into {REJECTED_RECORDS.name} (table_name, {REJECTED_KEY}, reason, "
                    "detected_at, _dlt_load_id) values ('runs', 'run_1', 'cost_usd: not a number', "
                    "now(), 'x')")
    board = board_of(path)
    ledger = panel(board, "load_ledger")
    in_ledger = sample_warehouse.count(LOAD_LEDGER.name)
    assert ledger.table is not None and len(ledger.table) == min(200, in_ledger)
    assert list(ledger.table.columns) == list(LOAD_LEDGER.columns)
    assert ledger.chart is not None
    resources = sample_warehouse.query(
        f"select count(distinct {LEDGER_RESOURCE}) from {LOAD_LEDGER.name} "
        f"where {LEDGER_LOAD} = (select max({LEDGER_LOAD}) from {LOAD_LEDGER.name})")[0][0]
    assert marks(svg(ledger.chart)) == resources, "a bar per resource of the last load"
    newest = health.last_load(ledger.table)
    last = sample_warehouse.query(f"select max({LEDGER_LOAD}) from {LOAD_LEDGER.name}")[0][0]
    assert set(newest[LEDGER_LOAD]) == {last}
    assert int(newest[LEDGER_ROWS].sum()) == sample_warehouse.query(
        f"select sum({LEDGER_ROWS}) from {LOAD_LEDGER.name} where {LEDGER_LOAD} = '{last}'")[0][0]
    rejected = panel(board, "rejected_records")
    assert rejected.table is not None and list(rejected.table[REJECTED_KEY]) == ["run_1"]


def test_a_missing_file_or_wrong_dataset_exits_2_and_says_what_to_do(
    sample_warehouse: Warehouse, tmp_path: Path,
) -> None:
    missing = dashboard("--duckdb", str(tmp_path / "absent.duckdb"), "--export", str(tmp_path / "x.html"))
    assert missing.returncode == 2 and "no DuckDB file at" in missing.stderr
    wrong = dashboard("--duckdb", str(sample_warehouse.db_path), "--dataset", "nope")
    assert wrong.returncode == 2 and f"datasets in it: {DATASET}" in wrong.stderr
    assert not (tmp_path / "x.html").exists()


def test_a_warehouse_held_by_a_load_is_no_matter_the_dashboard_reads_its_copy(
    tmp_path: Path, sample_warehouse: Warehouse,
) -> None:
    path = tmp_path / "held.duckdb"
    shutil.copy(sample_warehouse.db_path, path)
    shutil.copy(sample_warehouse.read_copy().db_path, tmp_path / "held_read.duckdb")
    env = {**os.environ, "ARMATURE_DUCKDB_WAIT_S": "1"}
    with held_for_writing(path):
        done = dashboard("--duckdb", str(path), "--dataset", DATASET, "--export", str(tmp_path / "x.html"), env=env)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "held_read.duckdb"
    assert f"Wrote the dashboard of {path} ({DATASET}, read from its copy {copy})" in done.stdout


def test_with_read_copies_off_a_warehouse_held_for_the_whole_wait_exits_1_naming_it(
    tmp_path: Path, sample_warehouse: Warehouse,
) -> None:
    path = tmp_path / "held.duckdb"
    shutil.copy(sample_warehouse.db_path, path)
    env = {**os.environ, "ARMATURE_DUCKDB_WAIT_S": "1", "ARMATURE__DUCKDB__READ_COPY": "false"}
    with held_for_writing(path):
        done = dashboard("--duckdb", str(path), "--dataset", DATASET, "--export", str(tmp_path / "x.html"), env=env)
    assert done.returncode == 1
    assert f"the DuckDB file {path} was held for writing" in done.stderr and "try again" in done.stderr


def test_the_command_is_listed_with_its_flags() -> None:
    done = dashboard("--help")
    assert done.returncode == 0
    for option in ("--duckdb", "--dataset", "--port", "--host", "--export"):
        assert option in done.stdout
    assert "default 8350" in done.stdout, "a port of its own: not marimo's 2718, not dlt's app's"
