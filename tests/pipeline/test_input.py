"""Bad input gets a clear error: the message names the setting and what to do, exit 2, no
traceback, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.warehouse import Warehouse


def run(wh: Warehouse, sim: Any, *extra: str, env: dict[str, str | None] | None = None) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, *extra, env=env)


def refused(done: Any, *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def test_a_broken_secrets_file_is_reported_as_such_with_its_name(sim: Any, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    (project / ".dlt" / "secrets.toml").write_text('[sources.armature]\napi_key = "amt_a_b\n')
    wh = Warehouse(project)
    done = wh.cli("run", "--base-url", sim.api_url, env={"ARMATURE_API_KEY": None, "DLT_PROJECT_DIR": str(project)})
    refused(done, "secrets.toml", "TOML")
    assert "No Armature API key" not in done.stderr
    assert not wh.db_path.exists()


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("ARMATURE_DUCKDB_MEMORY_LIMIT", "lots", "ARMATURE_DUCKDB_MEMORY_LIMIT"),
    ("ARMATURE_DUCKDB_WAIT_S", "-3", "ARMATURE_DUCKDB_WAIT_S"),
    ("SOURCES__ARMATURE__MAX_IN_FLIGHT", "many", "max_in_flight"),
    ("SOURCES__ARMATURE__MAX_LOAD_MINUTES", "0", "max_load_minutes"),
    ("SOURCES__ARMATURE__INSIGHT_RANGES", '["1y"]', "insight_ranges"),
])
def test_a_garbage_setting_exits_2_naming_it(sim: Any, tmp_path: Path, variable: str, value: str, named: str) -> None:
    wh = Warehouse(tmp_path)
    done = run(wh, sim, env={variable: value})
    refused(done, named)
    assert not wh.db_path.exists()


def test_an_empty_dataset_is_refused_and_an_odd_one_shown_as_used(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(seed=3, runs=30, sessions=20)
    wh = Warehouse(tmp_path)
    refused(run(wh, sim, "--dataset", ""), "--dataset is empty")
    done = run(wh, sim, "--dataset", "Odd;Name", "--resources", "organization")
    assert done.returncode == 0, done.stderr
    assert "'odd_name'" in done.stderr
    schemas = {r[0] for r in wh.query_catalog("select schema_name from duckdb_schemas()")}
    assert "odd_name" in schemas
