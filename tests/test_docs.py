"""Every table and view the README promises exists after a demo load (`armature-pipeline demo`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def promised() -> tuple[set[str], set[str]]:
    """Tables from the README's table of tables; views from its list of reporting views."""
    readme = (ROOT / "README.md").read_text()
    tables = set(re.findall(r"^\| `([a-z_]+)` \|", readme, re.M))
    views_paragraph = readme.split("The reporting views (", 1)[1].split(")", 1)[0]
    views = set(re.findall(r"`([a-z_]+)`", views_paragraph))
    return tables, views


def test_demo_load_holds_every_table_and_view_the_readme_promises(tmp_path: Path) -> None:
    tables, views = promised()
    assert len(tables) >= 15 and len(views) >= 9
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt")}
    env.pop("DESTINATION__DUCKDB__CREDENTIALS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.armature_pipeline", "demo", "--runs", "200"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"duckdb file {tmp_path / 'armature_demo.duckdb'}" in done.stdout
    assert not (tmp_path / "armature.duckdb").exists(), "the demo never writes the real warehouse"
    with duckdb.connect(str(tmp_path / "armature_demo.duckdb"), read_only=True) as con:
        found = con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'armature_data'"
        ).fetchall()
    base = {name for name, kind in found if kind == "BASE TABLE"}
    made = {name for name, kind in found if kind == "VIEW"}
    assert tables <= base, f"README promises tables the demo did not load: {tables - base}"
    assert views <= made, f"README promises views the demo did not create: {views - made}"
