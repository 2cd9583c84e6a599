"""A destination that cannot be reached when a load starts: the load asks it nothing more,
says so in one line (the password masked), exits 1, and the next load, with it back, goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.warehouse import Warehouse

WORLD = {"runs": 40, "sessions": 20}


def _run(wh: Warehouse, sim: Any, url: str) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, "--destination", "postgres",
                  env={"DESTINATION__POSTGRES__CREDENTIALS": url}, timeout=120)


@pytest.mark.postgres
def test_a_postgres_that_is_down_at_the_start_is_one_line_and_exit_1_and_the_next_load_goes_on(
    sim: Any, postgres_url: str, tmp_path: Path,
) -> None:
    # found by the simulation tester on Postgres (seeds 12, 15, 19): the world check's
    # connection error reached the command's catch-all for bugs, with a traceback
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, postgres_url).returncode == 0
    database = postgres_url.rsplit("/", 1)[1]
    down = f"postgresql://armature:s3cret-pw@127.0.0.1:9/{database}"  # nothing listens on port 9
    sim.control.advance(minutes=90)
    failed = _run(wh, sim, down)
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
    assert "the destination (postgres) could not be reached or read before the load" in failed.stderr
    assert "DESTINATION__POSTGRES__CREDENTIALS" in failed.stderr
    assert "s3cret-pw" not in failed.stderr + failed.stdout
    again = _run(wh, sim, postgres_url)
    assert again.returncode == 0, again.stderr[-2000:]
