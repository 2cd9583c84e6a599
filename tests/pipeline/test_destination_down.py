"""A destination that cannot be reached when a load starts: the load asks it nothing more,
says so in one line (the password masked), exits 1, and the next load, with it back, goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.warehouse import Warehouse

WORLD = {"runs": 40, "sessions": 20}


def _run(wh: Warehouse, sim: Any, url: str) -> Any:
    return wh.run_into_postgres(sim, url)


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


@pytest.mark.postgres
@pytest.mark.parametrize("wrong", ["database", "user"])
def test_a_postgres_that_refuses_the_credentials_is_a_setting_to_fix_exit_2(
    sim: Any, postgres_url: str, tmp_path: Path, wrong: str,
) -> None:
    # an outage passes (exit 1, the next run goes on); a server that answered and refused the
    # user or the database will refuse every run, so it is told as bad configuration
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, postgres_url).returncode == 0
    with_password = postgres_url.replace("//armature:unused@", "//armature:s3cret-pw@")
    url = with_password.rsplit("/", 1)[0] + "/no_such_db" if wrong == "database" else \
        with_password.replace("//armature:", "//nobody:")
    refused = _run(wh, sim, url)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "the destination (postgres) refused the connection before the load" in refused.stderr
    assert "DESTINATION__POSTGRES__CREDENTIALS" in refused.stderr
    assert "Traceback" not in refused.stderr and "s3cret-pw" not in refused.stderr + refused.stdout
    assert _run(wh, sim, postgres_url).returncode == 0
