"""The snapshot reader copies what readers need and lets go of the file at once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from armature_analytics.reader import (
    DatasetNotFound,
    NotAWarehouse,
    WarehouseBusy,
    WarehouseNotFound,
    snapshot,
)
from tests.support.analytics_warehouse import plain_rows, view_names
from tests.support.holder import held_for_writing
from tests.support.warehouse import DATASET, Warehouse

WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("insert into ds.runs values (99, 'written while a snapshot was open')")
con.close()
"""


def tiny_warehouse(path: Path, dataset: str = "ds") -> Path:
    """A DuckDB file with a table, a view over it, a health table and a table readers skip."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema {dataset}")
        con.execute(f"use {path.stem}.{dataset}")  # a file named like its dataset needs both
        con.execute("create table runs (id integer, status varchar)")
        con.execute("insert into runs values (1, 'pass'), (2, 'fail'), (3, 'pass')")
        con.execute("create view pass_counts as select status, count(*) as n from runs group by status")
        con.execute("create table coverage_gaps (resource varchar, detected_at timestamptz)")
        con.execute("insert into coverage_gaps values ('sessions', now())")
    return path


def test_the_snapshot_holds_the_views_and_health_tables_only(tmp_path: Path) -> None:
    con = snapshot(tiny_warehouse(tmp_path / "w.duckdb"), "ds")
    tables = {r[0] for r in con.execute("show tables").fetchall()}
    assert tables == {"pass_counts", "coverage_gaps", "_snapshot"}
    assert sorted(con.execute("select status, n from pass_counts").fetchall()) == [("fail", 1), ("pass", 2)]
    source, dataset = con.execute("select source, dataset from _snapshot").fetchone()  # type: ignore[misc]
    assert (source, dataset) == (str((tmp_path / "w.duckdb").resolve()), "ds")


def test_a_writer_opens_the_file_at_once_while_a_snapshot_stays_open(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    con = snapshot(path, "ds")
    started = time.monotonic()
    # DuckDB gives no wait of its own: a file still held would fail this write at once
    writer = subprocess.run([sys.executable, "-c", WRITE, str(path)], capture_output=True, text=True,
                            timeout=60)
    assert writer.returncode == 0, writer.stderr
    assert time.monotonic() - started < 30
    assert con.execute("select sum(n) from pass_counts").fetchone() == (3,)
    assert snapshot(path, "ds").execute("select sum(n) from pass_counts").fetchone() == (4,)


def test_a_held_file_is_waited_for_then_named_with_what_to_do(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    with held_for_writing(path) as holder:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as caught:
            snapshot(path, "ds", wait_s=1.5)
        waited = time.monotonic() - started
    message = str(caught.value)
    assert 1.5 <= waited < 10
    assert str(path.resolve()) in message
    assert f"process {holder.pid}" in message
    assert "try again" in message and "close the program" in message


def test_a_load_that_ends_within_the_wait_is_waited_out(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    with held_for_writing(path) as holder:
        assert holder.stdin is not None
        release = threading.Timer(1.0, lambda: (holder.stdin.write("\n"), holder.stdin.flush()))  # type: ignore[union-attr]
        release.start()
        started = time.monotonic()
        con = snapshot(path, "ds", wait_s=20)
        waited = time.monotonic() - started
        release.join()
    assert 0.9 <= waited < 20
    assert con.execute("select sum(n) from pass_counts").fetchone() == (3,)


def test_a_view_that_no_longer_runs_is_left_out_and_the_rest_read(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("create table ds.dropped (x integer)")
        con.execute("create view ds.broken as select x from ds.dropped")
        con.execute("drop table ds.dropped")
    con = snapshot(path, "ds")
    assert {r[0] for r in con.execute("show tables").fetchall()} == {"pass_counts", "coverage_gaps", "_snapshot"}


def test_a_file_named_like_its_dataset_is_read_without_ambiguity(tmp_path: Path) -> None:
    con = snapshot(tiny_warehouse(tmp_path / "armature.duckdb", "armature"), "armature")
    assert con.execute("select sum(n) from pass_counts").fetchone() == (3,)


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WarehouseNotFound, match="no DuckDB file at .*armature-pipeline run"):
        snapshot(tmp_path / "absent.duckdb", "ds")


@pytest.mark.parametrize("content", [b"", b"select 1;\n" * 10, bytes(range(256)) * 64])
def test_a_file_that_is_not_duckdb_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(content)
    with pytest.raises(NotAWarehouse, match=f"{path.resolve()} is not a DuckDB database file"):
        snapshot(path, "ds")


def test_a_folder_is_not_a_warehouse(tmp_path: Path) -> None:
    with pytest.raises(NotAWarehouse):
        snapshot(tmp_path, "ds")


def test_a_dataset_not_in_the_file_lists_the_ones_there(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound, match=r"no dataset 'armature_data' \(datasets in it: ds\)"):
        snapshot(tiny_warehouse(tmp_path / "w.duckdb"), "armature_data")


def test_the_sample_warehouse_snapshot_has_every_view_with_its_rows(sample_warehouse: Warehouse) -> None:
    con = snapshot(sample_warehouse.db_path, DATASET)
    views = view_names(sample_warehouse)
    assert views and set(sample_warehouse.created_views) <= views  # type: ignore[attr-defined]
    for view in sorted(views):
        assert plain_rows(con.execute(f"select * from {view}").fetchall()) == \
            plain_rows(sample_warehouse.query(f"select * from {view}")), view
    loads = sample_warehouse.query("select count(*) from _dlt_loads")[0][0]
    assert con.execute("select count(*) from _dlt_loads").fetchone() == (loads,)
