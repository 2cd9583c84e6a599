"""The docs keep their promises: every table and view the README promises exists after a demo
load, every command the demo prints works as printed, and every runnable code block of the
README and of docs/analysts.md, orchestration.md and operating.md runs.

A code block is runnable when its fence's info string carries the word `run` after the
language:

    ```sh run          a shell script (bash, -e): every command must succeed
    ```python run      a Python script
    ```sql run         SQL, through `armature-pipeline sql --duckdb armature.duckdb`

Each file's blocks run in order, in one temporary folder holding `armature.duckdb` (loaded
from the test simulator by `armature-pipeline run`, when a block reads it), `.venv` (this interpreter's virtualenv,
first on PATH as if activated) and `notebooks/`. The environment names the simulator
(`ARMATURE_BASE_URL`, `ARMATURE_API_KEY`) and a scratch dlt folder (`DLT_DATA_DIR`); a block
that mentions Postgres (in its info string or its text) also gets
`DESTINATION__POSTGRES__CREDENTIALS` for a fresh database of the test Postgres server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.support.warehouse import REPO

ROOT = REPO
VENV = Path(sys.executable).parent.parent
DOCS = (ROOT / "README.md", ROOT / "docs" / "analysts.md", ROOT / "docs" / "orchestration.md",
        ROOT / "docs" / "operating.md")
FENCE = re.compile(r"^```(\w+)[ \t]+([^\n]*\brun\b[^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def promised() -> tuple[set[str], set[str]]:
    """Tables from the README's table of tables; views from its list of reporting views."""
    readme = (ROOT / "README.md").read_text()
    tables = set(re.findall(r"^\| `([a-z_]+)` \|", readme, re.M))
    views_paragraph = readme.split("The reporting views (", 1)[1].split(")", 1)[0]
    views = set(re.findall(r"`([a-z_]+)`", views_paragraph))
    return tables, views


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DESTINATION__DUCKDB__CREDENTIALS", "ARMATURE_DUCKDB", "MPLBACKEND")}
    env.update(DLT_DATA_DIR=str(folder / "dlt"), PATH=os.pathsep.join([str(VENV / "bin"), env["PATH"]]))
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: Any) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`armature-pipeline demo` run once in an empty folder, the way a user runs it."""
    folder = tmp_path_factory.mktemp("demo")
    done = subprocess.run([str(VENV / "bin" / "armature-pipeline"), "demo", "--runs", "200"],
                          cwd=folder, env=_env(folder), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done


def test_demo_load_holds_every_table_and_view_the_readme_promises(demo: Any) -> None:
    folder, done = demo
    tables, views = promised()
    assert len(tables) >= 15 and len(views) >= 9
    assert f"duckdb file {folder / 'armature_demo.duckdb'}" in done.stdout
    assert not (folder / "armature.duckdb").exists(), "the demo never writes the real warehouse"
    with duckdb.connect(str(folder / "armature_demo.duckdb"), read_only=True) as con:
        found = con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'armature_data'"
        ).fetchall()
    base = {name for name, kind in found if kind == "BASE TABLE"}
    made = {name for name, kind in found if kind == "VIEW"}
    assert tables <= base, f"README promises tables the demo did not load: {tables - base}"
    assert views <= made, f"README promises views the demo did not create: {views - made}"


def test_every_command_the_demo_prints_runs_as_printed(demo: Any) -> None:
    folder, done = demo
    hints = done.stdout.split(". Next:\n", 1)[1]
    commands = [line[4:] for line in hints.splitlines() if line.startswith("    ")]
    assert len(commands) == 4, hints
    query, status, notebook, dashboard = commands
    assert "duckdb armature_demo.duckdb -c" not in done.stdout  # no duckdb command is installed
    shell = ["bash", "-e", "-c"]
    env = _env(folder)

    ran = subprocess.run([*shell, query], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    with duckdb.connect(str(folder / "armature_demo.duckdb"), read_only=True) as con:
        statuses = con.execute("select status from armature_data.runs group by 1").fetchall()
    assert all(s in ran.stdout for (s,) in statuses) and "runs" in ran.stdout

    ran = subprocess.run([*shell, status], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "pipeline armature_demo: dataset armature_data" in ran.stdout and "healthy:" in ran.stdout

    ran = subprocess.run([*shell, notebook], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert (folder / "out" / "workflow_health.ipynb").exists()

    # the dashboard serves until stopped: on a free port, it must answer
    server = subprocess.Popen([*shell, f"exec {dashboard} --port 0"], cwd=folder, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = re.search(r"Dashboard at (http://\S+?)[ )]", line)
        assert url, line + (server.stderr.read() if server.poll() is not None and server.stderr else "")
        page = httpx.get(url[1], timeout=60)
        assert page.status_code == 200 and "armature" in page.text.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Block:
    language: str
    info: str
    code: str

    @property
    def needs_postgres(self) -> bool:
        return "postgres" in self.info.lower() or "postgres" in self.code.lower()


def runnable_blocks(path: Path) -> list[Block]:
    return [Block(lang, info, code) for lang, info, code in FENCE.findall(path.read_text())]


def test_the_docs_mark_their_runnable_blocks() -> None:
    found = {path.name: [b.language for b in runnable_blocks(path)] for path in DOCS}
    assert found["README.md"].count("sh") >= 1, found
    assert {"sh", "python", "sql"} <= set(found["analysts.md"]), found
    assert found["operating.md"].count("sh") >= 4 and "python" in found["operating.md"], found


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_every_runnable_block_of_the_docs_runs(doc: Path, sim: Any, tmp_path: Path,
                                               request: Any) -> None:
    blocks = runnable_blocks(doc)
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)
    shutil.copytree(ROOT / "notebooks", folder / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (folder / "armature-dlt").symlink_to(ROOT)  # the checkout a dbt project installs the package from
    extra = {"ARMATURE_BASE_URL": sim.api_url, "ARMATURE_API_KEY": sim.api_key}
    if any(re.search(r"^dbt ", b.code, re.M) for b in blocks):  # a dbt user's own dbt
        dbt_bin = request.getfixturevalue("dbt_python").parent
        extra["PATH"] = os.pathsep.join([str(VENV / "bin"), os.environ["PATH"], str(dbt_bin)])
    if any(b.needs_postgres for b in blocks):
        extra["DESTINATION__POSTGRES__CREDENTIALS"] = request.getfixturevalue("postgres_url")
    env = _env(folder, **extra)
    sim.control.reset(seed=3, runs=80, sessions=60)
    if any("armature.duckdb" in b.code for b in blocks):  # blocks that read the warehouse
        loaded = subprocess.run([str(VENV / "bin" / "armature-pipeline"), "run"], cwd=folder,
                                env=env, capture_output=True, text=True, timeout=600)
        assert loaded.returncode == 0, loaded.stderr
    for number, block in enumerate(blocks, 1):
        ran = _run_block(block, folder, env, tmp_path / f"block{number}")
        assert ran.returncode == 0, (f"{doc.name} block {number} ({block.language} {block.info}) "
                                     f"failed:\n{block.code}\n{ran.stdout[-2000:]}\n{ran.stderr[-3000:]}")


def _run_block(block: Block, folder: Path, env: dict[str, str], script: Path) -> Any:
    if block.language in ("sh", "bash", "shell"):
        command, stdin = ["bash", "-e", "-c", block.code], None
    elif block.language == "python":
        script.with_suffix(".py").write_text(block.code)
        command, stdin = [sys.executable, str(script.with_suffix(".py"))], None
    elif block.language == "sql":
        command = [str(VENV / "bin" / "armature-pipeline"), "sql", "--duckdb", "armature.duckdb"]
        stdin = block.code
    else:
        raise AssertionError(f"no way to run a {block.language} block; mark it `sh run`, "
                             "`python run` or `sql run`")
    return subprocess.run(command, cwd=folder, env=env, input=stdin, capture_output=True,
                          text=True, timeout=600)
