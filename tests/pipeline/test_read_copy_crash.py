"""kill -9 at each step of a publish leaves the previous copy whole and readable (or, after the
rename, the new one), `status` says when the copy is behind, and the next load publishes a
correct copy, even when it changes nothing itself."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.warehouse import DATASET, Warehouse

WORLD = dict(seed=41, runs=300, days=30, sessions=120)


def newest_load(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"select max(load_id) from {DATASET}._dlt_loads where status = 0").fetchone()
    return str(row[0]) if row else ""


def tables_and_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = ?", [DATASET]).fetchall()]
        return {n: int(con.execute(f'select count(*) from {DATASET}."{n}"').fetchone()[0])  # type: ignore[index]
                for n in names}


def loaded_once(sim: Any, tmp_path: Path) -> tuple[Warehouse, Path, tuple[str, ...]]:
    """A warehouse the command loaded once: it, its read copy, and the command's arguments."""
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    source = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert wh.cli(*source).returncode == 0
    return wh, wh.read_copy().db_path, source


@pytest.mark.slow
@pytest.mark.parametrize("step", ["written", "copied", "durable", "renamed"])
def test_a_kill_at_each_step_of_a_publish_leaves_a_whole_copy_and_the_next_load_publishes(
    sim: Any, tmp_path: Path, step: str,
) -> None:
    wh, copy, source = loaded_once(sim, tmp_path)
    before = tables_and_counts(copy)
    sim.control.advance(minutes=180)

    killed = wh.cli(*source, crash_at=f"publish:{step}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    loaded = newest_load(wh.db_path)
    if step == "renamed":  # the new copy took the name whole; only the record was not written
        assert tables_and_counts(copy) == tables_and_counts(wh.db_path)
        killed_run = wh.cli("status")  # the data are whole, but the run was killed: it never ended
        assert killed_run.returncode == 1 and "never ended" in killed_run.stdout, killed_run.stdout
    else:
        assert tables_and_counts(copy) == before, "the previous copy, as it was"
        assert float(newest_load(copy)) < float(loaded)
        behind = wh.cli("status")
        assert behind.returncode == 1 and f"older than load {loaded}" in behind.stdout, behind.stdout

    again = wh.cli(*source)  # the host served nothing new since: the copy is still owed
    assert again.returncode == 0, again.stderr
    assert f"published the read copy {copy}" in again.stderr
    assert tables_and_counts(copy) == tables_and_counts(wh.db_path)
    assert newest_load(copy) == newest_load(wh.db_path) and float(newest_load(copy)) >= float(loaded)
    assert not list(tmp_path.glob(".*.publishing*")), "the killed publish's scratch file is gone"
    assert wh.cli("status").returncode == 0


def test_status_during_a_publish_says_the_running_load_is_publishing_and_stays_healthy(
    sim: Any, tmp_path: Path,
) -> None:
    wh, copy, source = loaded_once(sim, tmp_path)
    sim.control.advance(minutes=180)
    load = wh.start(*source, crash_at="stop:publish:copied")
    try:
        _wait_stopped(load.pid)
        loaded = newest_load(wh.db_path)
        assert float(newest_load(copy)) < float(loaded), "the copy still holds the load before"
        shown = wh.cli("status", env={"ARMATURE_DUCKDB_WAIT_S": "0"})
        assert shown.returncode == 0, shown.stdout
        assert "being published by the running load" in shown.stdout, shown.stdout
        assert json.loads(wh.cli("status", "--json").stdout)["read_copy"]["publishing"] is True
    finally:
        os.kill(load.pid, signal.SIGCONT)
    out, err = load.communicate(timeout=300)
    assert load.returncode == 0, err
    after = wh.cli("status")
    assert after.returncode == 0 and "up to date" in after.stdout, after.stdout


def _wait_stopped(pid: int) -> None:
    """Until the process is stopped (SIGSTOP at its crash point); fails if it ends first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "Z", "the load ended before it reached the point"
        if state == "T":
            return
        time.sleep(0.1)
    raise AssertionError("the load never reached the point")
