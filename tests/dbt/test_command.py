"""`armature-pipeline dbt` refuses what dlt's runner cannot pass to dbt, before touching anything."""

from __future__ import annotations

from pathlib import Path

from tests.support.warehouse import Warehouse


def test_a_dbt_command_of_two_words_or_none_is_bad_usage_and_runs_nothing(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    for args in (["source", "freshness"], []):
        done = warehouse.cli("dbt", "--pipelines-dir", str(warehouse.pipelines_dir), *args)
        assert done.returncode == 2, done.stderr
        assert "give a dbt command, one of build, run, test" in done.stderr
    assert not warehouse.db_path.exists() and not warehouse.pipelines_dir.exists()
