"""The world is checked at every load: the same organization, a warehouse and a state of one
history, a host that was reachable before. When tonight's world is not last night's, a load
either makes it right (the warehouse wins, the gap is read again) or refuses, naming why."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from armature_sim.server import RunningSim
from armature_source.errors import OrganizationMismatch
from tests.support.expectations import assert_first_load, assert_holds_what_the_host_serves
from tests.support.warehouse import Warehouse

WORLD = dict(seed=5, runs=120, sessions=80)


def _run(wh: Warehouse, sim: Any, *args: str) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, *args)


def test_a_key_for_another_organization_is_refused_before_anything_is_written(
    sim: Any, second_org: RunningSim, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    before = wh.snapshot()
    ours, theirs = sim.control.truth()["organization"], second_org.control.truth()["organization"]
    refused = _run(wh, second_org)
    assert refused.returncode == 2, refused.stderr
    assert ours["id"] in refused.stderr and theirs["id"] in refused.stderr
    assert wh.snapshot() == before
    assert wh.ids("organization") == {ours["id"]}
    sim.control.advance(minutes=60)
    assert _run(wh, sim).returncode == 0, "the rightful key still loads"
    assert_holds_what_the_host_serves(wh, sim.control.truth())


def test_the_library_source_refuses_another_organization_too(
    sim: Any, second_org: RunningSim, tmp_path: Path,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    wh.load(sim)
    before = wh.snapshot()
    with pytest.raises(PipelineStepFailed) as failed:
        wh.load(second_org)
    assert isinstance(failed.value.__cause__, OrganizationMismatch) or "organization" in str(failed.value)
    assert wh.snapshot() == before


@pytest.mark.slow
def test_a_warehouse_restored_from_an_older_copy_wins_and_the_gap_is_read_again(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    backup = tmp_path / "backup.duckdb"
    shutil.copy(wh.db_path, backup)
    for _ in range(2):
        sim.control.advance(minutes=120)
        assert _run(wh, sim).returncode == 0
    shutil.copy(backup, wh.db_path)  # restored: the state in the working folder is newer
    sim.control.advance(minutes=30)
    done = _run(wh, sim)
    assert done.returncode == 0, done.stderr
    assert "older state" in done.stderr
    assert_holds_what_the_host_serves(wh, sim.control.truth())


def test_a_fresh_warehouse_beside_an_old_state_is_loaded_as_a_fresh_warehouse(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    wh.db_path.unlink()
    done = _run(wh, sim)
    assert done.returncode == 0, done.stderr
    assert_first_load(wh, sim.control.truth())


def test_a_host_down_at_the_start_is_a_failed_load_once_it_has_loaded_and_bad_config_before(
    sim: Any, tmp_path: Path,
) -> None:
    nowhere = "http://127.0.0.1:9/api/armature/v1"  # nothing listens on the discard port
    fresh = Warehouse(tmp_path / "fresh")
    assert fresh.cli("run", "--base-url", nowhere, "--api-key", sim.api_key).returncode == 2
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path / "loaded")
    assert _run(wh, sim).returncode == 0
    down = wh.cli("run", "--base-url", nowhere, "--api-key", sim.api_key)
    assert down.returncode == 1, down.stderr
    assert "loaded from it before" in down.stderr
    assert wh.cli("status").returncode == 1
