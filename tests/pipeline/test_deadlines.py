"""A whole load has a deadline (`max_load_minutes`): a load that runs out of time stops where
what it delivered is complete, lets go of the lock, exits 1 saying so, and the next runs
complete the data exactly."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.support.expectations import assert_first_load
from tests.support.warehouse import Warehouse

WORLD = dict(seed=31, runs=300, days=30, sessions=100)
SECONDS = 2.0


def test_a_load_out_of_time_stops_cleanly_and_later_runs_complete_the_data(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    # 300 runs' ~900 child requests at 100 ms, at most 32 in flight, take 2.8 s or more:
    # the first load cannot finish within the deadline however fast the machine
    sim.control.configure(latency_ms=100)
    wh = Warehouse(tmp_path)
    env: dict[str, str | None] = {"SOURCES__ARMATURE__MAX_LOAD_MINUTES": str(SECONDS / 60)}
    args = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    codes = []
    for _ in range(20):
        started = time.monotonic()
        done = wh.cli(*args, env=env)
        codes.append(done.returncode)
        assert done.returncode in (0, 1), done.stderr
        if done.returncode == 0:
            break
        assert "ran out of time" in done.stderr and "the next run goes on" in done.stderr
        assert time.monotonic() - started < 60, "a load out of time must end soon after"
    assert codes[0] == 1, "the first load cannot finish in two seconds: the deadline must bite"
    assert codes[-1] == 0, f"the runs never completed: {codes}"
    sim.control.configure(latency_ms=0)
    assert_first_load(wh, sim.control.truth())
    stopped = wh.query("select count(*) from load_ledger where status = 'stopped'")[0][0]
    assert stopped >= 1
