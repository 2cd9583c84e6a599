"""The dbt package's generated files are what the views and the table declarations give."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from armature_analytics.dbt_package import MARTS_DIR, PACKAGE_DIR, SOURCES_FILE
from armature_analytics.dbt_package.generate import stale, write
from armature_analytics.views import load_views
from armature_source.tables import ALL_TABLES
from tests.support.warehouse import REPO


def test_the_committed_package_is_what_the_views_and_declarations_generate() -> None:
    done = subprocess.run([sys.executable, "-m", "armature_analytics.dbt_package", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stderr}\nrun `python -m armature_analytics.dbt_package`"


def test_an_edited_model_or_a_model_without_a_view_is_stale_until_written_again(tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = package / MARTS_DIR / "unmet_demand.sql"
    model.write_text(model.read_text().replace("coalesce", "ifnull", 1).replace("COALESCE", "IFNULL", 1))
    (package / MARTS_DIR / "gone.sql").write_text("select 1")
    assert sorted(stale(package)) == [MARTS_DIR / "gone.sql", MARTS_DIR / "unmet_demand.sql"]
    write(package)
    assert stale(package) == []


def test_every_view_is_a_model_reading_only_sources() -> None:
    for view in load_views():
        sql = (PACKAGE_DIR / MARTS_DIR / f"{view.name}.sql").read_text()
        for table in view.tables:
            assert f'{{{{ source("armature", "{table}") }}}}' in sql, (view.name, table)
        # DuckDB's own spellings are gone: every one is a macro or portable SQL now
        plain_sql = re.sub(r"\{\{.*?\}\}", "", sql).upper()
        for duckdb_only in ("FILTER(", "BOOL_OR(", "QUANTILE_CONT(", "->>", "AT TIME ZONE", "DOUBLE"):
            assert duckdb_only not in plain_sql, (view.name, duckdb_only)


def test_sources_declare_every_table_with_descriptions_keys_parents_and_vocabularies() -> None:
    document = yaml.safe_load((PACKAGE_DIR / SOURCES_FILE).read_text())
    tables = {t["name"]: t for t in document["sources"][0]["tables"]}
    assert set(tables) == {t.name for t in ALL_TABLES} | {"_dlt_loads"}
    assert "_dlt_load_id" in document["sources"][0]["config"]["loaded_at_field"]
    # coverage_gaps exists from the first gap on: described, not tested
    assert "data_tests" not in str(tables["coverage_gaps"])
    for table in ALL_TABLES:
        entry = tables[table.name]
        assert entry["description"] == table.description
        columns = {c["name"]: c for c in entry["columns"]}
        for name, text in table.descriptions.items():
            assert columns[name]["description"] == text
        tests = {name: str(c.get("data_tests", [])) for name, c in columns.items()}
        if table.name == "coverage_gaps":
            continue
        for name in table.key:
            assert "not_null" in tests[name], (table.name, name)
            assert ("unique" in tests[name]) == (len(table.key) == 1), (table.name, name)
        if len(table.key) > 1:
            assert entry["data_tests"] == [{"armature.unique_key": {"arguments": {"columns": list(table.key)}}}]
        if table.parent:
            assert f"source('armature', '{table.parent[0]}')" in tests[table.parent[1][0]], table.name
        for name, values in table.values.items():
            assert "accepted_values" in tests[name] and all(v in tests[name] for v in values)


def test_dbt_environment_pins_the_dlt_and_duckdb_the_project_pins() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("==") for line in path.read_text().splitlines() if "==" in line]
        return {name.lower(): version for name, version in lines}

    project, dbt = pins(REPO / "constraints.txt"), pins(REPO / "constraints-dbt.txt")
    # dlt's runner imports dlt in dbt's environment, and dbt opens the file this DuckDB writes
    assert dbt["dlt"] == project["dlt"] and dbt["duckdb"] == project["duckdb"]
    assert dbt["dbt-core"].startswith("1.11."), "dbt-core 1.12 builds a wheel from the internet at install"
