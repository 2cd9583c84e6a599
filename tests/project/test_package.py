"""The package as a library user gets it: a wheel that installs into a fresh virtualenv with
its declared requirements only (no simulator, no test tools) and imports."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.warehouse import REPO

CHECK = """
import importlib.util, sys
from armature_source import armature_source
from armature_source.tables import ALL_TABLES
import armature_analytics, armature_pipeline.cli
source = armature_source(base_url="https://armature.example.com", api_key="amt_a_b")
assert sorted(source.resources) == sorted(["organization", "mcp_servers", "workflows", "runs",
    "insights_overview", "topics", "failed_searches", "sessions", "load_health"])
missing = [m for m in ("starlette", "uvicorn", "pytest", "marimo", "dagster")
           if importlib.util.find_spec(m) is not None]
assert not missing, f"installed without being asked for: {missing}"
print("ok", len(ALL_TABLES))
"""


@pytest.mark.slow
def test_the_wheel_installs_only_its_own_packages_and_imports_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    wheels = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = wheels.glob("armature_dlt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist() if "/" in name}
    packages = {name for name in top_level if not name.endswith(".dist-info")}
    assert packages and all(name.startswith("armature_") for name in packages), packages
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(REPO / "constraints.txt"), str(wheel)],
        capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    checked = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert checked.stdout.strip() == "ok 18"
    command = subprocess.run([str(target / "bin" / "armature-pipeline"), "--help"],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert command.returncode == 0 and "run" in command.stdout
