"""Fixtures of the Dagster tests: two simulator processes with different seeds stand for two
organizations, a folder with its own `.dlt/`, and Dagster instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed")

from dlt.common.configuration.container import Container  # noqa: E402
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext  # noqa: E402

from armature_sim.server import RunningSim, spawn  # noqa: E402

ACME = dict(seed=4, runs=60, sessions=150)  # more sessions than one list serves: a gap
GLOBEX = dict(seed=99, runs=60, sessions=50)


@pytest.fixture(scope="module")
def worlds() -> Iterator[dict[str, RunningSim]]:
    with spawn(**ACME) as acme, spawn(**GLOBEX) as globex:
        yield {"acme": acme, "globex": globex}


@pytest.fixture
def orgs(worlds: dict[str, RunningSim]) -> dict[str, RunningSim]:
    for sim in worlds.values():
        sim.control.reset()
    return worlds


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with its own `.dlt/`, as the code location's working folder."""
    for name in ("DESTINATION__DUCKDB__CREDENTIALS", "ARMATURE_API_KEY", "ARMATURE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    monkeypatch.undo()
    Container()[PluggableRunContext].reload_providers()  # the next test reads its own config


@pytest.fixture
def instance() -> Iterator[Any]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def local_instance(tmp_path: Path) -> Iterator[Any]:
    """A Dagster instance on disk: a schedule's context needs one it can refer to."""
    (tmp_path / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as local:
        yield local
