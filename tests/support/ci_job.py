"""What a CI job does with Armature's write API, for the tests: dispatch a workflow, then poll
its run until it is terminal. Against the simulator a poll also moves the clock, so a run that
would take minutes ends in a few requests."""

from __future__ import annotations

from typing import Any

import httpx

from armature_sim.server import RunningSim

EDITOR_KEY = "amt_editor_localsimulator"
TERMINAL = frozenset({"pass", "partial", "fail", "error", "timed_out"})
POLL_MINUTES = 10
MAX_POLLS = 60  # ten simulated hours: longer than any run lasts


def client(sim: RunningSim, key: str = EDITOR_KEY) -> httpx.Client:
    """An HTTP client on the simulator's API carrying `key` (the editor key by default)."""
    return httpx.Client(base_url=sim.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def dispatch(api: httpx.Client, workflow_id: str, **body: Any) -> dict[str, Any]:
    """POST /workflows/{id}/runs; returns the queued run.

    Raises:
        AssertionError: the dispatch was not accepted with 202.
    """
    response = api.post(f"/workflows/{workflow_id}/runs", json=body)
    assert response.status_code == 202, response.text
    run: dict[str, Any] = response.json()["run"]
    return run


def poll_to_end(sim: RunningSim, api: httpx.Client, run_id: str) -> tuple[dict[str, Any], int]:
    """Poll GET /runs/{id}, advancing the clock between polls, until the run is terminal.

    Returns the terminal run and how many polls it took.
    """
    for polls in range(1, MAX_POLLS + 1):
        run: dict[str, Any] = api.get(f"/runs/{run_id}").json()
        if run["status"] in TERMINAL:
            return run, polls
        sim.control.advance(minutes=POLL_MINUTES)
    raise AssertionError(f"run {run_id} is still {run['status']} after {MAX_POLLS} polls")
