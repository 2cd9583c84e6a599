"""State written by the previous version of the source (positional lists for open runs and known
sessions) is read, upgraded in place, and the next loads end exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.expectations import assert_holds_what_the_host_serves, expected
from tests.support.warehouse import Warehouse


def _as_the_old_version_wrote_it(wh: Warehouse) -> tuple[int, int]:
    """Rewrite the pipeline's runs and sessions state in the old shapes; returns how many
    open runs and known sessions were rewritten."""
    path = wh.pipelines_dir / wh.name / "state.json"
    state = json.loads(path.read_text())
    resources = state["sources"]["armature"]["resources"]
    runs, sessions = resources["runs"], resources["sessions"]
    runs["open"] = {k: [v["started_at"], v["status"]] for k, v in runs["open"].items()}
    sessions["known"] = {k: [v["last_event_at"], v["event_count"]] for k, v in sessions["known"].items()}
    path.write_text(json.dumps(state))
    return len(runs["open"]), len(sessions["known"])


def test_state_in_the_old_shapes_is_upgraded_and_the_next_loads_end_exact(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(seed=11, runs=240, days=30, sessions=300)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    open_runs, known = _as_the_old_version_wrote_it(wh)
    assert open_runs and known, "the world should leave open runs and known sessions"
    sim.control.advance(minutes=120)
    wh.load(sim)
    sim.control.advance(minutes=30)
    wh.load(sim)
    truth = sim.control.truth()
    assert_holds_what_the_host_serves(wh, truth)
    assert wh.ids("sessions") >= expected(truth, "24h")["sessions"]
    state = json.loads((wh.pipelines_dir / wh.name / "state.json").read_text())
    resources = state["sources"]["armature"]["resources"]
    assert all(isinstance(v, dict) for v in resources["runs"]["open"].values())
    assert all(isinstance(v, dict) for v in resources["sessions"]["known"].values())
