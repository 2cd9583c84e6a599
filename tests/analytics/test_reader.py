"""The reader opens a DuckDB file read-only with its dataset as the current schema, says what is
wrong in words, and never holds a warehouse that a load writes longer than asked."""

from __future__ import annotations

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
    connect,
    opened,
)
from tests.support.analytics_warehouse import plain_rows, view_names
from tests.support.holder import held_for_writing
from tests.support.warehouse import DATASET, Warehouse


def tiny_warehouse(path: Path, dataset: str = "ds") -> Path:
    """A DuckDB file with a table, a view over it and a health table."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema {dataset}")
        con.execute(f"use {path.stem}.{dataset}")  # a file named like its dataset needs both
        con.execute("create table runs (id integer, status varchar)")
        con.execute("insert into runs values (1, 'pass'), (2, 'fail'), (3, 'pass')")
        con.execute("create view pass_counts as select status, count(*) as n from runs group by status")
        con.execute("create table coverage_gaps (resource varchar, detected_at timestamptz)")
        con.execute("insert into coverage_gaps values ('sessions', now())")
    return path


def test_the_connection_reads_the_dataset_by_bare_names_and_says_what_it_opened(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    with connect(path, "ds") as con:
        assert sorted(con.execute("select status, n from pass_counts").fetchall()) == [("fail", 1), ("pass", 2)]
        seen = opened(con)
    assert (seen.path, seen.dataset) == (path.resolve(), "ds")
    assert seen.storage_version and seen.storage_version.startswith("v")


def test_the_connection_cannot_write(tmp_path: Path) -> None:
    with connect(tiny_warehouse(tmp_path / "w.duckdb"), "ds") as con:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("insert into runs values (4, 'fail')")


def test_a_held_file_is_waited_for_then_named_with_what_to_do(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "w.duckdb")
    with held_for_writing(path) as holder:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as caught:
            connect(path, "ds", wait_s=1.5)
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
        con = connect(path, "ds", wait_s=20)
        waited = time.monotonic() - started
        release.join()
    assert 0.9 <= waited < 20
    assert con.execute("select sum(n) from pass_counts").fetchone() == (3,)
    con.close()


def test_a_file_named_like_its_dataset_is_read_without_ambiguity(tmp_path: Path) -> None:
    with connect(tiny_warehouse(tmp_path / "armature.duckdb", "armature"), "armature") as con:
        assert con.execute("select sum(n) from pass_counts").fetchone() == (3,)


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WarehouseNotFound, match="no DuckDB file at .*armature-pipeline run"):
        connect(tmp_path / "absent.duckdb", "ds")


@pytest.mark.parametrize("content", [b"", b"select 1;\n" * 10, bytes(range(256)) * 64])
def test_a_file_that_is_not_duckdb_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(content)
    with pytest.raises(NotAWarehouse, match=f"{path.resolve()} is not a DuckDB database file"):
        connect(path, "ds")


def test_a_folder_is_not_a_warehouse(tmp_path: Path) -> None:
    with pytest.raises(NotAWarehouse):
        connect(tmp_path, "ds")


def test_a_dataset_not_in_the_file_lists_the_ones_there(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound, match=r"no dataset 'armature_data' \(datasets in it: ds\)"):
        connect(tiny_warehouse(tmp_path / "w.duckdb"), "armature_data")


def test_the_sample_warehouse_copy_has_every_view_with_the_warehouses_rows(sample_warehouse: Warehouse) -> None:
    copy = sample_warehouse.read_copy()
    views = view_names(sample_warehouse)
    assert views and set(sample_warehouse.created_views) <= views  # type: ignore[attr-defined]
    assert view_names(copy) == views
    with connect(copy.db_path, DATASET) as con:
        for view in sorted(views):
            assert plain_rows(con.execute(f"select * from {view}").fetchall()) == \
                plain_rows(sample_warehouse.query(f"select * from {view}")), view
        loads = sample_warehouse.query("select count(*) from _dlt_loads")[0][0]
        assert con.execute("select count(*) from _dlt_loads").fetchone() == (loads,)
