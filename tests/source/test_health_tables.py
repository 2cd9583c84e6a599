"""The load-health tables belong to no data resource: dropping or refreshing a resource with
dlt's own tools takes that resource's tables, never `load_ledger`, `coverage_gaps` or
`rejected_records`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dlt.extract.items import TableNameMeta

from armature_source import armature_source
from armature_source.load.health_owner import HEALTH_OWNER
from armature_source.source import RESOURCES
from armature_source.tables import HEALTH
from tests.support.warehouse import Warehouse

HEALTH_NAMES = {table.name for table in HEALTH}


def test_dlts_own_drop_of_a_resource_never_takes_the_health_tables(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    wh.load(sim)
    ledger_rows = wh.count("load_ledger")
    assert HEALTH_NAMES <= wh.tables()
    for resource in ("organization", "sessions"):  # the first writer of a health table, the last
        dropped = subprocess.run(
            [sys.executable, "-m", "dlt", "--yes", "pipeline", "--pipelines-dir", str(wh.pipelines_dir),
             wh.name, "drop", resource], capture_output=True, text=True, timeout=120, cwd=tmp_path,
            env={**os.environ, "DESTINATION__DUCKDB__CREDENTIALS": str(wh.db_path)})
        assert dropped.returncode == 0, dropped.stdout[-2000:] + dropped.stderr[-2000:]
        assert resource not in wh.tables()
        assert HEALTH_NAMES <= wh.tables(), f"dropping {resource} took a health table"
    assert wh.count("load_ledger") == ledger_rows


def test_a_refresh_of_some_resources_keeps_the_health_tables_and_their_history(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    wh.load(sim)
    ledger_rows = wh.count("load_ledger")
    source = armature_source(base_url=sim.api_url, api_key=sim.api_key).with_resources("organization", "workflows")
    wh.pipeline().run(source, refresh="drop_resources")
    assert HEALTH_NAMES <= wh.tables()
    assert wh.count("load_ledger") == ledger_rows + 2


def test_every_data_resource_writes_a_health_table_as_the_owners() -> None:
    # dlt names a table's resource after whichever resource computed it last; the owner was
    # once handed back when the last resource ended, but its last health row could be written
    # after that in another thread, and a load that found nothing new stored a new schema
    source = armature_source(base_url="https://armature.example.com", api_key="amt_a_b")
    for name in RESOURCES:
        for table in HEALTH_NAMES:
            computed = source.resources[name].compute_table_schema(meta=TableNameMeta(table))
            assert computed["resource"] == HEALTH_OWNER, (name, table)


def test_a_load_that_finds_nothing_new_stores_the_schema_it_found(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    wh.load(sim)
    before = wh.pipeline().default_schema
    wh.load(sim)
    after = wh.pipeline().default_schema
    assert {after.tables[name]["resource"] for name in HEALTH_NAMES} == {HEALTH_OWNER}
    assert (after.version, after.version_hash) == (before.version, before.version_hash)
