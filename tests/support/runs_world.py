"""The runs resource alone on a small world, and one whole load of it to compare others with:
for the tests of how runs load batch by batch (dlt's idioms, rows held for dlt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from armature_source import armature_source
from armature_source.source import DECLARED
from tests.support.warehouse import Warehouse

WORLD = dict(seed=11, runs=240, days=30, sessions=60)
RUN_TABLES = next(tuple(table.name for table in r.tables) for r in DECLARED if r.name == "runs")


def runs_only(sim: Any, **options: Any) -> Any:
    """The source with the runs resource alone, on the simulator."""
    return armature_source(base_url=sim.api_url, api_key=sim.api_key, **options).with_resources("runs")


def loaded_whole(sim: Any, folder: Path) -> Warehouse:
    """The world reset to WORLD, and a warehouse in `folder` that one load of runs filled."""
    sim.control.reset(**WORLD)
    whole = Warehouse(folder)
    whole.pipeline().run(runs_only(sim))
    return whole
