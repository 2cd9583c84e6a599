"""Readers never stall the loader: a BI connection idle in a transaction on Postgres holds locks
on the views it read. A load whose views did not change takes no lock on them; one that must
replace a view waits for it at most the lock timeout, keeps the data it loaded, and says so."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from armature_analytics import ddl
from armature_analytics.views import MADE_FILE
from tests.support.warehouse import DATASET, Warehouse

WORLD = {"runs": 60, "sessions": 50}


def _run(wh: Warehouse, sim: Any, url: str) -> Any:
    return wh.run_into_postgres(sim, url, "--quiet")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_reader_idle_in_a_transaction_never_makes_a_load_wait_past_the_lock_timeout(
    sim: Any, postgres_url: str, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, postgres_url).returncode == 0
    reader = psycopg2.connect(postgres_url)
    try:
        with reader.cursor() as cursor:  # a BI tool's query, its transaction never closed
            cursor.execute(f"select count(*) from {DATASET}.flaky_workflows")
            cursor.execute(f"select count(*) from {DATASET}.runs")
        sim.control.advance(minutes=60)
        started = time.monotonic()
        unchanged = _run(wh, sim, postgres_url)
        assert unchanged.returncode == 0, unchanged.stderr
        assert time.monotonic() - started < 60

        (wh.pipelines_dir / wh.name / MADE_FILE).unlink()  # as if every view had to be replaced
        sim.control.advance(minutes=60)
        started = time.monotonic()
        replaced = _run(wh, sim, postgres_url)
        waited = time.monotonic() - started
        assert replaced.returncode == 0, replaced.stderr
        assert "was not granted within" in replaced.stderr
        assert waited < 60 + ddl.LOCK_TIMEOUT_S * 3
    finally:
        reader.close()
    truth = sim.control.truth()
    with psycopg2.connect(postgres_url) as con, con.cursor() as cursor:
        cursor.execute(f"select id from {DATASET}.runs")
        assert {r["id"] for r in truth["runs"]} <= {row[0] for row in cursor.fetchall()}
