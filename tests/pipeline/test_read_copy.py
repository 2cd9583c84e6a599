"""The read copy: published after every load that changed something, whole or not at all, and
read by a BI tool's pooled connection while loads run, none of them waiting for it.

Real processes throughout: the command as a user runs it, a BI-style reader (SQLAlchemy,
duckdb-engine, a connection pool) as its own process, the simulator's clock moving between
loads. Expected rows come from the simulator's truth and from the warehouse itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.bi_reader import TABLES
from tests.support.expectations import assert_holds_what_the_host_serves
from tests.support.warehouse import DATASET, REPO, Warehouse

WORLD = dict(seed=31, runs=300, days=30, sessions=120)
ANALYSTS = REPO / "docs" / "analysts.md"


def _run(wh: Warehouse, sim: Any, env: dict[str, str | None] | None = None) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, env=env)


def counts(path: Path) -> dict[str, Any]:
    """What a fresh connection sees: the row count of each table the BI reader counts, and the
    newest load."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = {t: con.execute(f"select count(*) from {DATASET}.{t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
        newest = con.execute(f"select max(load_id) from {DATASET}._dlt_loads where status = 0").fetchone()
    return {"counts": found, "newest_load": newest[0] if newest else None}


def recycle_interval() -> float:
    """The pool recycle interval docs/analysts.md tells BI users to set, in seconds."""
    found = re.findall(r"pool_recycle=(\d+)", ANALYSTS.read_text())
    assert found, "docs/analysts.md gives no pool_recycle for BI tools"
    return float(found[0])


def holds_open(pid: int, name: str) -> bool:
    """Whether the process has a file of that name open (also one renamed over since)."""
    fds = Path(f"/proc/{pid}/fd")
    return any(os.readlink(fd).split(" (deleted)")[0].endswith(name) for fd in fds.iterdir()
               if fd.is_symlink())


@pytest.mark.slow
def test_a_pooled_bi_reader_never_makes_three_loads_wait_and_sees_each_within_its_recycle_interval(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    copy = wh.read_copy()
    assert _run(wh, sim).returncode == 0
    recycle = recycle_interval()
    reader = subprocess.Popen([sys.executable, "-m", "tests.support.bi_reader", str(copy.db_path), DATASET,
                               str(recycle)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=REPO)
    assert reader.stdin is not None and reader.stdout is not None

    def ask() -> dict[str, Any]:
        reader.stdin.write("counts\n")  # type: ignore[union-attr]
        reader.stdin.flush()  # type: ignore[union-attr]
        return dict(json.loads(reader.stdout.readline()))  # type: ignore[union-attr]

    try:
        assert ask() == counts(copy.db_path)
        for load in range(3):
            sim.control.advance(minutes=90)
            done = _run(wh, sim)
            assert done.returncode == 0, done.stderr
            assert "waiting for the DuckDB file" not in done.stderr, f"load {load} waited:\n{done.stderr}"
            assert holds_open(reader.pid, copy.db_path.name), "the reader kept its pooled connection"
            fresh = counts(copy.db_path)
            assert fresh == counts(wh.db_path), f"load {load}: the copy holds what the warehouse holds"
            assert_holds_what_the_host_serves(copy, sim.control.truth())
            published = time.monotonic()
            while (seen := ask()) != fresh:
                assert time.monotonic() - published <= recycle + 5, f"load {load}: still {seen}"
                time.sleep(0.5)
    finally:
        reader.kill()
        reader.wait(timeout=30)


def test_a_load_that_changes_nothing_publishes_nothing(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    copy = wh.read_copy().db_path
    assert _run(wh, sim).returncode == 0
    before = copy.stat()
    again = _run(wh, sim)
    assert again.returncode == 0, again.stderr
    assert f"nothing changed: the read copy {copy} stays as published" in again.stderr
    after = copy.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_load_refused_by_the_destination_publishes_nothing(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    copy = wh.read_copy().db_path
    assert _run(wh, sim).returncode == 0
    before, held = copy.stat(), counts(copy)
    # an administrator adds a constraint that every load's ledger breaks: the package is refused
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute("update armature_data.load_ledger set window_range = '-'")
        con.execute("alter table armature_data.load_ledger alter column window_range set not null")
    sim.control.advance(minutes=360)
    refused = _run(wh, sim)
    assert refused.returncode == 1 and "set aside" in refused.stderr
    assert "read copy" not in refused.stderr
    assert (copy.stat().st_ino, copy.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert counts(copy) == held


@pytest.mark.slow
def test_a_failed_publish_keeps_the_load_a_success_status_says_so_and_the_next_load_publishes(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    copy = wh.read_copy().db_path
    assert _run(wh, sim).returncode == 0
    published = counts(copy)
    copy.unlink()
    copy.mkdir()  # a folder where the copy goes: the rename fails
    sim.control.advance(minutes=120)
    loaded = _run(wh, sim)
    assert loaded.returncode == 0, loaded.stderr
    assert f"publishing the read copy {copy}" in loaded.stderr and "the next load publishes" in loaded.stderr
    assert not list(tmp_path.glob(".*.publishing*")), "no scratch file is left behind"
    copy.rmdir()
    status = wh.cli("status")
    assert status.returncode == 1, status.stdout
    assert f"has no read copy at {copy} yet" in status.stdout

    again = _run(wh, sim)  # nothing new on the host: the copy is still owed, so it is published
    assert again.returncode == 0, again.stderr
    assert counts(copy) == counts(wh.db_path) != published
    healthy = wh.cli("status", "--json")
    assert healthy.returncode == 0, healthy.stdout
    shown = json.loads(healthy.stdout)["read_copy"]
    assert shown["path"] == str(copy) and shown["behind"] is False
    assert shown["load_id"] == counts(wh.db_path)["newest_load"]
    assert shown["storage_version"].startswith("v1.4.0")


def test_status_says_where_the_copy_is_which_load_it_holds_and_its_storage_version(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    status = wh.cli("status")
    assert status.returncode == 0, status.stdout
    newest = counts(wh.db_path)["newest_load"]
    line = next(x for x in status.stdout.splitlines() if x.startswith("read copy: "))
    assert line.startswith(f"read copy: {wh.read_copy().db_path}, load {newest}, published ")
    assert "DuckDB storage v1.4.0" in line and line.endswith("; up to date")


def test_read_copies_can_be_turned_off_or_put_elsewhere(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    off = Warehouse(tmp_path / "off")
    assert _run(off, sim, env={"ARMATURE__DUCKDB__READ_COPY": "false"}).returncode == 0
    assert not off.read_copy().db_path.exists()
    elsewhere = Warehouse(tmp_path / "elsewhere")
    target = tmp_path / "bi" / "{stem}-for-bi.duckdb"
    assert _run(elsewhere, sim, env={"ARMATURE__DUCKDB__READ_COPY_PATH": str(target)}).returncode == 0
    placed = tmp_path / "bi" / "warehouse-for-bi.duckdb"
    assert counts(placed) == counts(elsewhere.db_path)
    assert not elsewhere.read_copy().db_path.exists()


def test_a_warehouse_loaded_by_a_library_pipeline_is_read_directly_saying_so(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)  # dlt's own run: no copy is published
    assert not wh.read_copy().db_path.exists()
    runs = len(sim.control.truth()["runs"])
    shown = wh.cli("sql", "--duckdb", str(wh.db_path), "--dataset", DATASET, "select count(*) as n from runs")
    assert shown.returncode == 0, shown.stderr
    assert "reading the warehouse itself" in shown.stderr and str(wh.db_path) in shown.stderr
    assert re.search(rf"\b{runs}\b", shown.stdout), shown.stdout
    status = wh.cli("status", "--json")
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["read_copy"] is None
