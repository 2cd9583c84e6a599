"""Shared fixtures. The simulator is a real server on a free port, one per test session (one per
xdist worker), reset to its start world before every test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from armature_sim.server import RunningSim, spawn

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
