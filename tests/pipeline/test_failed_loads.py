"""A failed load never jams the next one, and a failed full refresh leaves the warehouse as
it was: on DuckDB, and on Postgres. Expected rows come from the simulator's truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from tests.support.expectations import assert_first_load, assert_holds_what_the_host_serves
from tests.support.warehouse import Warehouse

WORLD = dict(seed=13, runs=600, days=30, sessions=90)
TIGHT_RETRIES = {"SOURCES__ARMATURE__RETRY_BUDGET_S": "2", "SOURCES__ARMATURE__MAX_ATTEMPTS": "2"}


def _run(wh: Warehouse, sim: Any, *extra: str, env: dict[str, str | None] | None = None) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, *extra, env=env)


def test_a_package_the_destination_refuses_is_set_aside_and_the_next_run_loads_everything(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    # an administrator adds a constraint that every load's ledger breaks (a resource without
    # a window writes no window_range): the destination refuses the package, every time
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute("update armature_data.load_ledger set window_range = '-'")
        con.execute("alter table armature_data.load_ledger alter column window_range set not null")
    sim.control.advance(minutes=360)
    refused = _run(wh, sim)
    assert refused.returncode == 1
    assert "set aside" in refused.stderr and "rolled back" in refused.stderr
    aside = Path(refused.stderr.split("for inspection at ", 1)[1].split(";", 1)[0])
    assert aside.is_dir() and list(aside.rglob("*.parquet")), "the refused data is kept"

    # the next run neither retries the refused package nor loses what it carried
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute("alter table armature_data.load_ledger alter column window_range drop not null")
    done = _run(wh, sim)
    assert done.returncode == 0, done.stderr
    assert_holds_what_the_host_serves(wh, sim.control.truth())


def _failing_refresh_env() -> dict[str, str | None]:
    return dict(TIGHT_RETRIES)


@pytest.mark.slow
def test_a_failed_full_refresh_leaves_the_duckdb_warehouse_and_state_as_they_were(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    before = wh.snapshot()
    views = _views(wh)
    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/tool-calls$"}])
    refresh = _run(wh, sim, "--full-refresh", env=_failing_refresh_env())
    assert refresh.returncode == 1
    assert "Nothing was swapped in" in refresh.stderr and "exactly as before" in refresh.stderr
    assert refresh.stderr.count("exactly as before") == 1
    assert wh.snapshot() == before and _views(wh) == views
    assert not list(tmp_path.glob("*.refresh*"))

    sim.control.clear_faults()
    sim.control.advance(minutes=60)
    again = _run(wh, sim)  # the cursors are the old ones: an incremental load, exact
    assert again.returncode == 0, again.stderr
    assert_holds_what_the_host_serves(wh, sim.control.truth())


def test_a_full_refresh_that_succeeds_swaps_in_exactly_a_first_load(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute("insert into armature_data.rejected_records (table_name, record_key, reason, "
                    "_dlt_load_id) values ('stale', 'stale', 'stale', 'x')")
    done = _run(wh, sim, "--full-refresh")
    assert done.returncode == 0, done.stderr
    assert wh.count("rejected_records") == 0
    assert_first_load(wh, sim.control.truth())
    assert _views(wh), "the views are there after the swap"


@pytest.mark.slow
@pytest.mark.postgres
def test_on_postgres_a_failed_full_refresh_changes_nothing_and_a_good_one_swaps(
    sim: Any, tmp_path: Path, postgres_url: str
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    env: dict[str, str | None] = {"DESTINATION__POSTGRES__CREDENTIALS": postgres_url}
    postgres = ("--destination", "postgres")
    assert _run(wh, sim, *postgres, env=env).returncode == 0
    before = _pg_snapshot(postgres_url)

    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$"}])
    failed = _run(wh, sim, *postgres, "--full-refresh", env={**env, **_failing_refresh_env()})
    assert failed.returncode == 1 and "exactly as before" in failed.stderr
    assert _pg_snapshot(postgres_url) == before

    sim.control.clear_faults()
    swapped = _run(wh, sim, *postgres, "--full-refresh", env=env)
    assert swapped.returncode == 0, swapped.stderr
    after = _pg_snapshot(postgres_url)
    truth = sim.control.truth()
    assert after["runs"] == len(truth["runs"])
    assert after["views"] == before["views"] and after["schemas"] == before["schemas"]


def _views(wh: Warehouse) -> set[str]:
    return {r[0] for r in wh.query_catalog(
        "select table_name from information_schema.tables "
        "where table_schema = 'armature_data' and table_type = 'VIEW'")}


def _pg_snapshot(url: str) -> dict[str, Any]:
    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute("select schema_name from information_schema.schemata where schema_name like 'armature%'")
        schemas = sorted(r[0] for r in cur.fetchall())
        cur.execute("select table_name, table_type from information_schema.tables where table_schema = 'armature_data'")
        found = cur.fetchall()
        counts = {}
        for name, kind in found:
            if kind == "BASE TABLE":
                cur.execute(f'select count(*) from armature_data."{name}"')
                counts[name] = cur.fetchone()[0]
    return {**counts, "views": sorted(n for n, k in found if k == "VIEW"), "schemas": schemas}
