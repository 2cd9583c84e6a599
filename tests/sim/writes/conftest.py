"""Fixtures of the simulator's write API tests: a small world, and one client per role."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from armature_sim.server import RunningSim
from tests.support.ci_job import EDITOR_KEY, client
from tests.support.sim_writes import SMALL

ROLES = ("viewer", "editor", "admin", "owner")
KEYS = {"viewer": "amt_demo_localsimulator", "editor": EDITOR_KEY,
        "admin": "amt_admin_localsimulator", "owner": "amt_owner_localsimulator"}


@pytest.fixture(scope="module")
def keyed(sim_server: RunningSim) -> Iterator[dict[str, httpx.Client]]:
    """One client per role, for the module."""
    clients = {role: client(sim_server, KEYS[role]) for role in ROLES}
    yield clients
    for api in clients.values():
        api.close()


@pytest.fixture
def small(sim: RunningSim) -> RunningSim:
    """The simulator rebuilt as a small world."""
    sim.control.reset(**SMALL)
    return sim


@pytest.fixture
def editor(small: RunningSim, keyed: dict[str, httpx.Client]) -> httpx.Client:
    return keyed["editor"]


@pytest.fixture
def viewer(small: RunningSim, keyed: dict[str, httpx.Client]) -> httpx.Client:
    return keyed["viewer"]


@pytest.fixture
def ids(viewer: httpx.Client) -> dict[str, str]:
    """Real ids of the small world: a live workflow, a listed topic, an MCP source, a terminal run."""
    runs = viewer.get("/runs", params={"range": "30d", "status": "pass"}).json()["rows"]
    return {
        "workflow": viewer.get("/workflows").json()["rows"][0]["id"],
        "topic": viewer.get("/insights/topics", params={"range": "90d"}).json()["rows"][0]["id"],
        "server": viewer.get("/mcp-servers").json()["rows"][0]["id"],
        "run": runs[0]["id"],
    }
