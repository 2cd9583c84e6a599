"""The contract's names: dataset `armature_data`, the DuckDB file named after the pipeline, and
a warehouse made by the old defaults (`armature.duckdb` holding dataset `armature`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from tests.support.expectations import assert_holds_what_the_host_serves
from tests.support.warehouse import Warehouse

WORLD = dict(seed=8, runs=90, days=30, sessions=80)


def test_the_default_warehouse_is_the_pipelines_file_with_dataset_armature_data(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path, name="armature")
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                  env={"DESTINATION__DUCKDB__CREDENTIALS": None})
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(tmp_path / "armature.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        # no ambiguity: the catalog is `armature`, the dataset another name
        assert con.execute("select count(*) from armature_data.runs").fetchone() == (len(sim.control.truth()["runs"]),)
    assert "armature_data" in schemas and "armature" not in schemas
    attached = dlt.attach("armature", pipelines_dir=str(wh.pipelines_dir))
    assert len(attached.dataset().runs.df()) == len(sim.control.truth()["runs"])


@pytest.mark.slow
def test_a_warehouse_of_the_old_defaults_keeps_loading_when_named_and_can_be_moved(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path, name="armature")
    source = ("--base-url", sim.api_url, "--api-key", sim.api_key)
    default_file = {"DESTINATION__DUCKDB__CREDENTIALS": None}
    old = wh.cli("run", *source, "--dataset", "armature", env=default_file)
    assert old.returncode == 0, old.stderr

    refused = wh.cli("run", *source, env=default_file)
    assert refused.returncode == 2
    assert "--dataset armature" in refused.stderr and "armature_data" in refused.stderr

    sim.control.advance(minutes=90)
    again = wh.cli("run", *source, "--dataset", "armature", env=default_file)
    assert again.returncode == 0, again.stderr

    status = wh.cli("status", "--dataset", "armature", env=default_file)
    assert status.returncode == 0, status.stderr
    statements = [line.strip() for line in status.stdout.splitlines()
                  if line.startswith(("  create", "  drop", "  use"))]
    assert statements, status.stdout
    moved = wh.cli("sql", "--duckdb", str(tmp_path / "armature.duckdb"), "--write",
                   "\n".join(statements))
    assert moved.returncode == 0, moved.stderr

    sim.control.advance(minutes=90)
    after = wh.cli("run", *source, env=default_file)
    assert after.returncode == 0, after.stderr
    with duckdb.connect(str(tmp_path / "armature.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert "armature" not in schemas
    # every run the host serves now, and all the children of the terminal ones, are there
    # (runs that aged out of the host's 30 days meanwhile stay, as loaded)
    moved_wh = _at(tmp_path)
    assert_holds_what_the_host_serves(moved_wh, sim.control.truth())
    assert moved_wh.count("load_ledger") == 3 * 8


def _at(folder: Path) -> Warehouse:
    """A Warehouse reading `<folder>/armature.duckdb`."""

    class DefaultFile(Warehouse):
        @property
        def db_path(self) -> Path:
            return self.root / "armature.duckdb"

    return DefaultFile(folder, name="armature")
