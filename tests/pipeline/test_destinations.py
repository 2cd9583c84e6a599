"""Loading into Postgres and into Parquet files, and the reporting views on Postgres."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from armature_analytics.dictionary import SAMPLE_WORLD, load_sample
from armature_analytics.views import apply_views, drop_views, load_views
from armature_sim.server import RunningSim
from armature_source import armature_source
from armature_source.tables import ALL_TABLES
from tests.support.analytics_warehouse import assert_same_rows, plain_rows
from tests.support.warehouse import DATASET, KEYS, Warehouse, duplicates

SMALL_WORLD = {"runs": 60, "sessions": 50}
JSON_COLUMNS = {(t.name, c) for t in ALL_TABLES for c, kind in t.columns.items() if kind == "json"}


class PostgresWarehouse:
    """A dlt pipeline into one database of the test Postgres server, and queries on it."""

    def __init__(self, root: Path, url: str) -> None:
        self.url = url
        self.warehouse = Warehouse(root)

    def pipeline(self) -> dlt.Pipeline:
        return self.warehouse.pipeline(dlt.destinations.postgres(self.url))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.pipeline().sql_client() as client:
            return [tuple(row) for row in client.execute_sql(sql) or []]

    def tables(self) -> set[str]:
        rows = self.query(f"select table_name from information_schema.tables where table_schema = '{DATASET}'")
        return {r[0] for r in rows}


@pytest.mark.postgres
def test_the_sample_world_lands_in_postgres_typed_with_unique_keys_and_the_same_view_rows_as_duckdb(
    sim_server: RunningSim, postgres_url: str, tmp_path: Path, sample_warehouse: Warehouse
) -> None:
    # one test, not three: the sample load is the slow part, and xdist would repeat it per worker
    warehouse = PostgresWarehouse(tmp_path, postgres_url)
    sim_server.control.reset(**SAMPLE_WORLD)
    try:
        created = load_sample(warehouse.pipeline(), sim_server)
        truth = sim_server.control.truth()
    finally:
        sim_server.control.reset()
    assert created == [v.name for v in load_views()]
    check_tables_and_keys(warehouse, truth)
    check_types(warehouse)
    check_views_equal(warehouse, sample_warehouse)


def check_tables_and_keys(warehouse: PostgresWarehouse, truth: dict[str, Any]) -> None:
    assert {t.name for t in ALL_TABLES} <= warehouse.tables()
    for table in ALL_TABLES:
        keys = warehouse.query(f"select {', '.join(KEYS[table.name])} from {DATASET}.{table.name}")
        # the sample world serves nothing that must be rejected: that table exists, empty
        assert (keys or table.name == "rejected_records") and not duplicates(keys), table.name
    count = lambda table: warehouse.query(f"select count(*) from {DATASET}.{table}")[0][0]  # noqa: E731
    assert count("workflows") == truth["counts"]["workflows"]
    assert count("mcp_servers") == truth["counts"]["mcp_servers"]
    assert count("topics") == truth["topics_total"]["90d"]
    loaded = {r[0] for r in warehouse.query(f"select id from {DATASET}.runs")}
    assert {r["id"] for r in truth["runs"]} <= loaded


def check_types(warehouse: PostgresWarehouse) -> None:
    types = {(t, c): k for t, c, k in warehouse.query(
        "select table_name, column_name, data_type from information_schema.columns "
        f"where table_schema = '{DATASET}'"
    )}
    assert types[("runs", "started_at")] == "timestamp with time zone"
    assert types[("runs", "cost_usd")] == "double precision"
    for table, column in JSON_COLUMNS:
        assert types[(table, column)] == "jsonb", (table, column)
    tool = warehouse.query(
        f"select metadata ->> 'tool_name' from {DATASET}.session_events where kind = 'tool_call' limit 1"
    )
    assert tool and tool[0][0]


def check_views_equal(warehouse: PostgresWarehouse, duckdb_sample: Warehouse) -> None:
    for view in load_views():
        columns = ", ".join(view.columns)
        on_postgres = plain_rows(warehouse.query(f"select {columns} from {DATASET}.{view.name}"))
        on_duckdb = plain_rows(duckdb_sample.query(f"select {columns} from {view.name}"))
        assert on_postgres, view.name
        assert_same_rows(on_postgres, on_duckdb)


@pytest.mark.postgres
def test_postgres_views_replace_an_older_shape_and_a_full_refresh_works_once_they_are_dropped(
    sim: RunningSim, postgres_url: str, tmp_path: Path
) -> None:
    sim.control.reset(**SMALL_WORLD)
    warehouse = PostgresWarehouse(tmp_path, postgres_url)
    source = lambda: armature_source(base_url=sim.api_url, api_key=sim.api_key)  # noqa: E731
    warehouse.pipeline().run(source())
    with warehouse.pipeline().sql_client() as client:
        # a view left by an older release, with other columns: `create or replace` alone fails
        client.execute_sql(f"create view {DATASET}.flaky_workflows as select 1 as workflow_count")
    assert apply_views(warehouse.pipeline()) == [v.name for v in load_views()]
    assert [r[0] for r in warehouse.query(
        "select column_name from information_schema.columns "
        f"where table_schema = '{DATASET}' and table_name = 'flaky_workflows' order by ordinal_position"
    )] == list(next(v for v in load_views() if v.name == "flaky_workflows").columns)
    # Postgres will not drop a table a view depends on, and a full refresh drops the tables
    assert drop_views(warehouse.pipeline()) == [v.name for v in load_views()]
    warehouse.pipeline().run(source(), refresh="drop_sources")
    assert apply_views(warehouse.pipeline()) == [v.name for v in load_views()]
    runs = warehouse.query(f"select count(*) from {DATASET}.runs")[0][0]
    assert runs == sim.control.truth()["counts"]["runs_in_window"]


def lake_table(lake: Path, table: str) -> str:
    return f"read_parquet('{lake / DATASET / table}/*.parquet', filename = true)"


def test_parquet_files_read_back_with_duckdb_hold_every_table_and_each_load_appends(
    sim: RunningSim, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim.control.reset(**SMALL_WORLD)
    lake = tmp_path / "lake"
    pipeline = Warehouse(tmp_path).pipeline(dlt.destinations.filesystem(bucket_url=str(lake)))
    source = lambda: armature_source(base_url=sim.api_url, api_key=sim.api_key)  # noqa: E731
    # no file format asked for: the tables are Arrow, which the filesystem destination writes as Parquet
    pipeline.run(source())
    truth = sim.control.truth()
    assert list((lake / DATASET / "runs").glob("*.parquet"))
    with duckdb.connect() as con:
        for table in ALL_TABLES:
            if table.name == "coverage_gaps" and not (lake / DATASET / table.name).exists():
                continue
            keys = con.execute(f"select {', '.join(table.key)} from {lake_table(lake, table.name)}").fetchall()
            assert (keys or table.name == "rejected_records") and not duplicates(keys), table.name
        ids = {r[0] for r in con.execute(f"select id from {lake_table(lake, 'runs')}").fetchall()}
        assert ids == {r["id"] for r in truth["runs"]}
        started = con.execute(f"select typeof(started_at) from {lake_table(lake, 'runs')} limit 1").fetchone()
        assert started == ("TIMESTAMP WITH TIME ZONE",)
        arguments = con.execute(f"select arguments from {lake_table(lake, 'tool_calls')} limit 1").fetchall()
        assert isinstance(json.loads(arguments[0][0]), dict)
    with caplog.at_level(logging.INFO, logger="armature_pipeline.views"):
        assert apply_views(pipeline) == []
    assert any("views: none on filesystem" in r.message for r in caplog.records)

    sim.control.advance(minutes=240)
    pipeline.run(source())
    statuses = {r["id"]: r["status"] for r in sim.control.truth()["runs"]}
    # the query docs/analysts.md gives for Parquet: the row from the newest load file wins
    latest = f"""
        select id, status from {lake_table(lake, 'runs')}
        qualify row_number() over (partition by id order by filename desc) = 1
    """
    with duckdb.connect() as con:
        total = con.execute(f"select count(*) from {lake_table(lake, 'runs')}").fetchall()[0][0]
        current = dict(con.execute(latest).fetchall())
    assert truth["open_runs"] and total > len(current), "runs that ended between loads appear twice"
    assert statuses.keys() <= current.keys()
    assert {run_id: current[run_id] for run_id in statuses} == statuses
