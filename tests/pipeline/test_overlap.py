"""Cron fires again while a load is going; a notebook holds the DuckDB file; a path that
cannot be written. Each gets a clear message, the right exit code, and loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.support.expectations import assert_first_load
from tests.support.warehouse import Warehouse

WORLD = dict(seed=51, runs=80, sessions=80)


def test_second_run_while_the_first_is_loading_exits_3_at_once(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**WORLD, latency_ms=40)
    wh = Warehouse(tmp_path)
    args = ["run", "--base-url", sim.api_url, "--api-key", sim.api_key,
            "--pipeline-name", wh.name, "--pipelines-dir", str(wh.pipelines_dir)]
    env = {**os.environ, "DESTINATION__DUCKDB__CREDENTIALS": str(wh.db_path)}
    first = subprocess.Popen([sys.executable, "-m", "armature_pipeline.cli", *args],
                             env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 60
        while len(sim.control.requests()) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, "the first load ended before the second could overlap it"
        started = time.monotonic()
        second = wh.cli(*args[:5])
        assert second.returncode == 3, second.stderr
        assert time.monotonic() - started < 15
        assert "another run of pipeline" in second.stderr
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    sim.control.configure(latency_ms=0)
    assert_first_load(wh, sim.control.truth())


def _hold_read_only(path: Any, seconds: float) -> subprocess.Popen[str]:
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print('holding', flush=True); time.sleep(float(sys.argv[2]))"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


@pytest.mark.slow
def test_a_reader_holding_the_duckdb_file_gets_named_and_the_next_run_completes(
    sim: Any, tmp_path: Any
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    args = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key, "--resources", "organization")
    assert wh.cli(*args).returncode == 0
    holder = _hold_read_only(wh.db_path, 60)
    try:
        blocked = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                         env={"ARMATURE_DUCKDB_WAIT_S": "2"})
    finally:
        holder.kill()
        holder.wait()
    assert blocked.returncode == 1
    assert f"PID {holder.pid}" in blocked.stderr
    assert "Close that connection" in blocked.stderr
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 0, done.stderr
    assert_first_load(wh, sim.control.truth())


def test_a_reader_that_lets_go_within_the_wait_does_not_fail_the_load(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                  "--resources", "organization").returncode == 0
    holder = _hold_read_only(wh.db_path, 300)
    env = {**os.environ, "DESTINATION__DUCKDB__CREDENTIALS": str(wh.db_path),
           "ARMATURE_DUCKDB_WAIT_S": "120"}
    load = subprocess.Popen(
        [sys.executable, "-m", "armature_pipeline.cli", "run", "--base-url", sim.api_url,
         "--api-key", sim.api_key, "--pipeline-name", wh.name,
         "--pipelines-dir", str(wh.pipelines_dir)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert load.stderr is not None
    seen = []
    for line in load.stderr:  # the notebook closes once the load says it is waiting for it
        seen.append(line)
        if "waiting for the DuckDB file" in line:
            break
    holder.kill()
    holder.wait()
    rest_out, rest_err = load.communicate(timeout=300)
    assert load.returncode == 0, "".join(seen) + rest_err
    assert any("waiting for the DuckDB file" in line for line in seen)
    assert_first_load(wh, sim.control.truth())


def test_unwritable_destination_path_exits_2_and_writes_nothing(sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    missing = tmp_path / "no" / "such" / "folder" / "w.duckdb"
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                  env={"DESTINATION__DUCKDB__CREDENTIALS": str(missing)})
    assert done.returncode == 2, done.stderr
    assert "DESTINATION__DUCKDB__CREDENTIALS" in done.stderr
    assert not missing.parent.exists()
    assert sim.control.requests() == [] or all(r["path"].endswith("/org") for r in sim.control.requests())
