"""How a failed step is told: a package the destination refuses is set aside whatever its
error's words, and one that fails the same way run after run stops being called transient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import pytest
from dlt.common.destination.exceptions import DestinationTerminalException, DestinationTransientException
from dlt.pipeline.exceptions import PipelineStepFailed

from armature_pipeline.load.outcome import MAX_PACKAGE_TRIES, failed
from tests.support.warehouse import Warehouse


def _failing_pipeline(tmp_path: Path, error: Exception) -> dlt.Pipeline:
    @dlt.destination(batch_size=0, name="refusing")
    def refusing(items: Any, table: Any) -> None:
        raise error

    return dlt.pipeline("outcomes", destination=refusing, pipelines_dir=str(tmp_path / "p"))


def _load_step_failure(pipeline: dlt.Pipeline) -> PipelineStepFailed:
    with pytest.raises(PipelineStepFailed) as caught:
        if pipeline.has_pending_data:
            pipeline.load()
        else:
            pipeline.run([{"id": 1}], table_name="t")
    return caught.value


def test_a_package_refused_for_good_is_set_aside_even_when_its_error_speaks_of_a_connection(tmp_path: Path) -> None:
    pipeline = _failing_pipeline(tmp_path, DestinationTerminalException("connection reset while copying: bad data"))
    outcome = failed(pipeline, _load_step_failure(pipeline))
    assert not outcome.transient and "set aside" in outcome.message
    assert not pipeline.has_pending_data


def test_a_package_that_fails_the_same_way_run_after_run_is_set_aside_on_the_third(tmp_path: Path) -> None:
    pipeline = _failing_pipeline(tmp_path, DestinationTransientException("out of memory on this package"))
    for run in range(1, MAX_PACKAGE_TRIES):
        outcome = failed(pipeline, _load_step_failure(pipeline))
        assert outcome.transient and pipeline.has_pending_data, f"run {run} keeps the package"
    outcome = failed(pipeline, _load_step_failure(pipeline))
    assert not outcome.transient and "failed 3 runs in a row" in outcome.message
    assert not pipeline.has_pending_data


def test_full_refresh_of_some_resources_is_refused_saying_what_could_not_come_back(sim: Any, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, "--full-refresh",
                  "--resources", "workflows")
    assert done.returncode == 2
    assert "could not come back" in done.stderr and "drop" in done.stderr
    assert not wh.db_path.exists()


