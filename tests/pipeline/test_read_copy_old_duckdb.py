"""An older DuckDB opens the read copy: DuckDB 1.4 (what the BI drivers bundle), installed from
the package index into a throwaway virtual environment, reads every table and view of the copy
of a warehouse that DuckDB 2.0 wrote, with the warehouse's row counts. No install, no pass:
the test fails when the package cannot be had."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import duckdb

from tests.support.warehouse import DATASET, Warehouse

# the oldest 1.4 release (the copy's storage version) and the one that refused the warehouse
OLD_READERS = ("1.4.0", "1.4.4")
COUNT_EVERYTHING = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
found = con.execute(
    "select table_name, table_type from information_schema.tables where table_schema = ?",
    [sys.argv[2]]).fetchall()
counts = {name: [kind, con.execute(f'select count(*) from "{sys.argv[2]}"."{name}"').fetchone()[0]]
          for name, kind in found}
print(json.dumps({"version": duckdb.__version__, "relations": counts}))
"""


def counted(path: Path, python: str = sys.executable) -> dict[str, Any]:
    done = subprocess.run([python, "-c", COUNT_EVERYTHING, str(path), DATASET], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def test_duckdb_1_4_reads_every_table_and_view_of_the_copy_with_the_warehouses_counts(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(seed=37, runs=300, days=30, sessions=120)
    wh = Warehouse(tmp_path / "warehouse")
    loaded = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert loaded.returncode == 0, loaded.stderr
    warehouse = counted(wh.db_path)["relations"]
    kinds = {kind for kind, _ in warehouse.values()}
    assert kinds == {"BASE TABLE", "VIEW"} and len(warehouse) >= 27, warehouse
    assert duckdb.__version__.startswith("2."), "the warehouse is written by DuckDB 2"

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = str(target / "bin" / "python")
    for version in OLD_READERS:
        installed = subprocess.run([python, "-m", "pip", "install", "--quiet", f"duckdb=={version}"],
                                   capture_output=True, text=True, timeout=900)
        assert installed.returncode == 0, f"DuckDB {version} could not be installed: {installed.stderr[-3000:]}"
        refused = subprocess.run([python, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)",
                                  str(wh.db_path)], capture_output=True, text=True, timeout=300)
        assert refused.returncode != 0 and "version number" in refused.stderr, "the warehouse is 2.0's own"
        old = counted(wh.read_copy().db_path, python)
        assert old["version"] == version
        assert old["relations"] == warehouse, f"DuckDB {version} reads the copy differently"
