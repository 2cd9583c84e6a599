"""Shared fixtures. The simulator is a real server on a free port, one per test session (one per
xdist worker), reset to its start world before every test that asks for it. The throwaway
Postgres server and the analytics sample warehouse are built once per session as well.

Helpers live in tests/support; a test module imports them from there, never from another test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from filelock import FileLock

from armature_pipeline.transform.venv import READY_MARK, ensure, venv_dir
from armature_sim.server import RunningSim, spawn
from tests.support.analytics_warehouse import build_sample
from tests.support.postgres import PostgresServer, find_bin
from tests.support.warehouse import Warehouse

SIM_START = {"seed": 7, "runs": 300, "days": 30, "sessions": 400}


@pytest.fixture(scope="session")
def sim_server() -> Iterator[RunningSim]:
    """The session's simulator process."""
    with spawn(**SIM_START) as running:
        yield running


@pytest.fixture
def sim(sim_server: RunningSim) -> RunningSim:
    """The simulator, rebuilt from its start options: fresh world and clock, no faults, empty log."""
    sim_server.control.reset()
    return sim_server


@pytest.fixture(scope="session")
def _api_client(sim_server: RunningSim) -> Iterator[httpx.Client]:
    # one client for the session: building one costs more than most simulator requests
    headers = {"Authorization": f"Bearer {sim_server.api_key}"}
    with httpx.Client(base_url=sim_server.api_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def api(sim: RunningSim, _api_client: httpx.Client) -> httpx.Client:
    """An HTTP client on the freshly reset simulator's API base URL, carrying the demo key."""
    return _api_client


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One Postgres server per test session (per xdist worker)."""
    bindir = find_bin()
    if bindir is None:
        message = ("Postgres server binaries (initdb, pg_ctl) not found; install postgresql "
                   "or set ARMATURE_PG_BIN to their folder")
        if os.environ.get("ARMATURE_REQUIRE_POSTGRES"):  # CI: the Postgres cases must run
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A connection string to a fresh, empty database of the session's server."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture(scope="session")
def sample_warehouse(sim_server: RunningSim, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The sample world loaded as `python -m armature_analytics.dictionary` loads it, views applied.

    The first xdist worker to ask builds it; the others copy it, so the slow part runs once.
    """
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's base folder sits in the session's own folder
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "analytics-sample"
    with FileLock(f"{shared}.lock"):
        if not (shared / "facts.json").exists():
            build_sample(Warehouse(shared), sim_server)
    mine = tmp_path_factory.mktemp("analytics")
    shutil.copytree(shared, mine, dirs_exist_ok=True)
    warehouse = Warehouse(mine)
    facts = json.loads((mine / "facts.json").read_text())
    warehouse.created_views = facts["created_views"]  # type: ignore[attr-defined]
    warehouse.truth = facts["truth"]  # type: ignore[attr-defined]
    return warehouse


@pytest.fixture(scope="session")
def second_org() -> Iterator[RunningSim]:
    """Another simulator process, another seed: another Armature organization."""
    with spawn(seed=99, runs=80, sessions=60) as running:
        yield running


# the adapters the tests run dbt with (duckdb, postgres) or compile the package for (bigquery, snowflake)
DBT_ADAPTERS = ("duckdb", "postgres", "bigquery", "snowflake")


@pytest.fixture(scope="session")
def dbt_python() -> Path:
    """The Python of dbt's environment, with every adapter the tests use: made on first use (it
    outlives the session in the user's cache folder, like the command's; a lock lets one worker
    build it), pinned by constraints-dbt.txt."""
    started = time.monotonic()
    ensure(DBT_ADAPTERS)
    print(f"dbt environment ready in {time.monotonic() - started:.0f} s")
    return venv_dir() / "bin" / "python"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first, dbt's last: xdist hands tests out in this order, so no long case starts
    near the end and leaves one worker running alone, and dbt's environment, when this machine
    has none yet, is built in the background while the rest run (see `_build_dbt_env`)."""
    def rank(item: pytest.Item) -> int:
        if "dbt_python" in getattr(item, "fixturenames", ()):
            return 2
        return 0 if item.get_closest_marker("slow") else 1
    items.sort(key=rank)  # stable: within a rank, the files' own order
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0" and any(rank(i) == 2 for i in items):
        _build_dbt_env()


def _build_dbt_env() -> None:
    """Start building dbt's environment in a process of its own, unless it is ready; the
    `dbt_python` fixture waits for it on the same lock."""
    if (venv_dir() / READY_MARK).exists():
        return
    log = venv_dir().with_name(venv_dir().name + ".build.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    code = ("from armature_pipeline.transform.venv import ensure; "
            f"ensure({DBT_ADAPTERS!r})")
    with open(log, "w") as out:
        subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT,
                         start_new_session=True)
