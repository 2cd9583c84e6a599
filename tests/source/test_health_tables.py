"""The load-health tables belong to no data resource: dropping or refreshing a resource with
dlt's own tools takes that resource's tables, never `load_ledger`, `coverage_gaps` or
`rejected_records`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from armature_source import armature_source
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
