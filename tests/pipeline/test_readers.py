"""Readers never break a load: a process that keeps opening the DuckDB file read-only for a
moment, again and again, while loads run (as `status`, a notebook or a BI tool does)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.expectations import assert_holds_what_the_host_serves
from tests.support.warehouse import Warehouse

WORLD = dict(seed=29, runs=300, days=30, sessions=120)

READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop = sys.argv[1], time.monotonic() + float(sys.argv[2])
    opened = 0
    while time.monotonic() < stop:
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.IOException:
            time.sleep(0.05)
            continue
        opened += 1
        time.sleep(0.3)   # a reader that holds the file for a moment
        con.close()
        time.sleep(0.05)
    print(opened)
""")


@pytest.mark.slow
def test_loads_succeed_while_a_reader_keeps_opening_the_file(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    source = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert wh.cli(*source).returncode == 0  # the file exists before the reader starts
    reader = subprocess.Popen([sys.executable, "-c", READER, str(wh.db_path), "40"],
                              stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(4):
            sim.control.advance(minutes=90)
            done = wh.cli(*source)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
    finally:
        reader.kill()
        opened = reader.communicate()[0].strip()
    assert_holds_what_the_host_serves(wh, sim.control.truth())
    assert opened != "0"


def test_a_non_duckdb_file_at_the_duckdb_path_exits_2_and_names_it(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    wh.db_path.parent.mkdir(parents=True, exist_ok=True)
    wh.db_path.write_text("this is not a database\n")
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert str(wh.db_path) in done.stderr and "DuckDB" in done.stderr
    assert wh.db_path.read_text() == "this is not a database\n"


def test_a_garbage_wait_setting_exits_2_naming_it(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                  env={"ARMATURE_DUCKDB_WAIT_S": "abc"})
    assert done.returncode == 2 and "ARMATURE_DUCKDB_WAIT_S" in done.stderr
    assert "Traceback" not in done.stderr and not wh.db_path.exists()
