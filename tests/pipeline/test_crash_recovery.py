"""kill -9 at several points of a load; the next run ends with exactly the tables of a run
that never crashed (every key of every table, and every value)."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from tests.support.warehouse import Warehouse

WORLD = dict(seed=21, runs=150, sessions=150)


@pytest.mark.parametrize("point", ["request:12", "request:late", "normalize", "load:4"])
def test_kill_9_then_rerun_gives_the_tables_of_a_run_that_never_crashed(
    sim: Any, tmp_path: Any, point: str
) -> None:
    sim.control.reset(**WORLD)
    clean = Warehouse(tmp_path / "clean")
    clean.load(sim)
    requests_of_a_load = len(sim.control.requests())
    if point == "request:late":
        point = f"request:{int(requests_of_a_load * 0.8)}"

    crashed = Warehouse(tmp_path / "crashed")
    args = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    killed = crashed.cli(*args, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = crashed.cli(*args)
    assert again.returncode == 0, again.stderr

    tables = {t for t in clean.tables() if not t.startswith("_dlt")}
    assert {t for t in crashed.tables() if not t.startswith("_dlt")} == tables
    # the ledger records each load as it went (its own ids and times): one row per resource
    # of the load that completed, none of the killed one's unfinished resources twice
    assert len(crashed.keys("load_ledger")) == len(set(crashed.keys("load_ledger")))
    for table in sorted(tables - {"load_ledger"}):
        assert sorted(crashed.keys(table)) == sorted(clean.keys(table)), table
        assert crashed.content(table) == clean.content(table), table
