"""The API key never appears in output at any log level, in exceptions, in dlt's trace or
state, in any file of the pipeline's working folder, or in any table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dlt.common.pipeline import TPipelineState
from dlt.pipeline.state_sync import decompress_state

from tests.support.warehouse import Warehouse

WORLD = dict(seed=41, runs=60, sessions=80)


def secret_parts(key: str) -> list[str]:
    """The whole key and its secret part (`amt_<key-id>_<secret>`)."""
    return [key, key.split("_", 2)[2]]


def assert_clean(text: str, key: str, where: str) -> None:
    for part in secret_parts(key):
        assert part not in text, f"the API key leaked into {where}"


def scan_files(root: Path, key: str) -> int:
    scanned = 0
    for path in root.rglob("*"):
        if path.is_file() and path.suffix != ".duckdb":
            data = path.read_bytes()
            for part in secret_parts(key):
                assert part.encode() not in data, f"the API key leaked into {path}"
            scanned += 1
    return scanned


def scan_tables(wh: Warehouse, key: str) -> None:
    for table in wh.tables():
        for row in wh.query(f"select * from {table}"):
            assert_clean(repr(row), key, f"table {table}")
    for (blob,) in wh.query("select state from _dlt_pipeline_state"):
        state: TPipelineState = decompress_state(blob)
        assert_clean(repr(state), key, "the pipeline state stored in the destination")


def test_key_stays_secret_in_a_succeeding_and_a_failing_run(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(**WORLD)
    key = sim.api_key
    wh = Warehouse(tmp_path)
    args = ("run", "--base-url", sim.api_url, "--api-key", key)

    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/tool-calls$"}])
    env = {"SOURCES__ARMATURE__RETRY_BUDGET_S": "2", "SOURCES__ARMATURE__MAX_ATTEMPTS": "2",
           "RUNTIME__LOG_LEVEL": "DEBUG"}
    failed = wh.cli("-v", *args, env=env)
    assert failed.returncode == 1
    sim.control.clear_faults()
    done = wh.cli("-v", *args, env={"RUNTIME__LOG_LEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr
    status = wh.cli("status")

    for name, run in (("the failing run", failed), ("the succeeding run", done), ("status", status)):
        assert_clean(run.stdout + run.stderr, key, f"the output of {name}")
    assert "DEBUG" in done.stderr, "the debug run must really log at debug level"
    assert scan_files(wh.pipelines_dir, key) > 5
    scan_tables(wh, key)


def test_key_stays_secret_in_logs_exceptions_and_the_trace_in_process(
    sim: Any, tmp_path: Any, caplog: Any
) -> None:
    sim.control.reset(**WORLD)
    key = sim.api_key
    wh = Warehouse(tmp_path)
    sim.control.set_faults([{"kind": "500", "path": "/workflows$"}])
    with caplog.at_level(logging.DEBUG):
        try:
            wh.load(sim, retry_budget_s=1, max_attempts=2)
        except Exception as exc:  # the load must fail: its whole chain is scanned
            chain: list[BaseException] = []
            seen: BaseException | None = exc
            while seen is not None and len(chain) < 20:
                chain.append(seen)
                seen = seen.__cause__ or seen.__context__
            assert_clean("\n".join(f"{type(e).__name__}: {e!r} {e}" for e in chain), key,
                         "the exception chain")
        else:
            raise AssertionError("the 500 storm should have failed the load")
    sim.control.clear_faults()
    with caplog.at_level(logging.DEBUG):
        wh.load(sim)
    assert_clean("\n".join(r.getMessage() for r in caplog.records), key, "the log records")
    trace = wh.pipeline().last_trace
    assert_clean(repr(trace) + str(trace) + repr(trace.asdict()), key, "dlt's trace")
    scan_files(wh.pipelines_dir, key)
    scan_tables(wh, key)
