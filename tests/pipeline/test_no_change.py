"""A run that finds nothing new leaves the comments and views alone, and makes them again as
soon as what they are made from is not known to be as it was."""

from __future__ import annotations

from typing import Any

import duckdb

from armature_pipeline.load.derived import MARK_FILE
from tests.support.warehouse import DATASET, Warehouse

SKIPPED = "comments and views: nothing they depend on changed; left as they are"


def views_in(wh: Warehouse) -> set[str]:
    rows = wh.query_catalog(f"select table_name from information_schema.views where table_schema = '{DATASET}'")
    return {r[0] for r in rows}


def test_a_run_with_nothing_new_skips_comments_and_views_and_they_stay(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(seed=5, runs=40, sessions=20)
    wh = Warehouse(tmp_path)
    args = ("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    first = wh.cli(*args)
    assert first.returncode == 0, first.stderr
    assert SKIPPED not in first.stderr
    made = views_in(wh)
    assert len(made) >= 5, made

    again = wh.cli(*args)
    assert again.returncode == 0, again.stderr
    assert SKIPPED in again.stderr
    assert views_in(wh) == made

    (wh.pipelines_dir / wh.name / MARK_FILE).unlink()  # what they were made from: unknown now
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute(f"drop view {DATASET}.{sorted(made)[0]}")
    third = wh.cli(*args)
    assert third.returncode == 0, third.stderr
    assert SKIPPED not in third.stderr
    assert views_in(wh) == made, "the view dropped by hand is made again"
