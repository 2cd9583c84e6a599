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


@pytest.fixture
def api(sim: RunningSim) -> Iterator[httpx.Client]:
    """An HTTP client on the API base URL carrying the demo key."""
    with httpx.Client(base_url=sim.api_url, headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=30) as client:
        yield client
