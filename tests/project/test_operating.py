"""docs/operating.md's move to Postgres copies what only the DuckDB warehouse holds: rows gone
from Postgres (as runs past the API's 30 days would be) come back from DuckDB, whole."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from tests.project.test_docs import ROOT, VENV, _env, _run_block, runnable_blocks

pytestmark = pytest.mark.postgres


def test_the_move_recipe_copies_back_the_rows_postgres_lacks(
    sim: Any, tmp_path: Path, postgres_url: str
) -> None:
    blocks = [b for b in runnable_blocks(ROOT / "docs" / "operating.md") if b.needs_postgres]
    load, copy = blocks  # the Postgres backfill, then the copy of older rows
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)
    env = _env(folder, ARMATURE_BASE_URL=sim.api_url, ARMATURE_API_KEY=sim.api_key,
               DESTINATION__POSTGRES__CREDENTIALS=postgres_url)
    sim.control.reset(seed=3, runs=80, sessions=60)
    loaded = subprocess.run([str(VENV / "bin" / "armature-pipeline"), "run"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=600)
    assert loaded.returncode == 0, loaded.stderr
    ran = _run_block(load, folder, env, tmp_path / "backfill_block")
    assert ran.returncode == 0, ran.stderr[-3000:]
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:  # the oldest runs, as if past the window
        cur.execute("create temp table gone as select id from armature_data.runs order by started_at limit 10")
        for table in ("evaluation_criteria", "evaluations", "tool_calls", "trace_spans"):
            cur.execute(f"delete from armature_data.{table} where run_id in (select id from gone)")
        cur.execute("delete from armature_data.runs where id in (select id from gone)")
    ran = _run_block(copy, folder, env, tmp_path / "older_rows_block")
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "runs: 10 older rows copied; 80 in Postgres, 80 in DuckDB" in ran.stdout, ran.stdout
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute("select count(*), count(distinct id), sum(cost_usd) from armature_data.runs")
        in_postgres = cur.fetchone()
    with duckdb.connect(str(folder / "armature_read.duckdb"), read_only=True) as con:
        in_duckdb = con.execute("select count(*), count(distinct id), sum(cost_usd) from armature_data.runs").fetchone()
    assert in_postgres is not None and in_duckdb is not None
    assert in_postgres[:2] == in_duckdb[:2] and float(in_postgres[2]) == pytest.approx(float(in_duckdb[2]))
