"""Run `armature-pipeline`, then SIGKILL this very process at a chosen point (tests only).

    python -m tests.support.crash_at <point> run --base-url ...

Points: `request:N` (the Nth HTTP request is sent, extraction under way), `normalize` (the
extracted items are spooled into a load package that is not yet committed), `load:N` (after
the Nth load job has completed, the rest still pending), and the steps of publishing the read
copy after a load: `publish:written` (the data copied into the scratch file, not yet
checkpointed), `publish:copied` (checkpointed and closed), `publish:durable` (fsynced, not
yet renamed), `publish:renamed` (renamed over the copy, the record of the publish not yet
written). The kill is a real SIGKILL: no cleanup, no finally blocks, exactly what an
OOM killer or a pulled plug does.

`stop:<point>` stops the process there instead (SIGSTOP, its lock still held), for a test to
look at a run caught in the middle and then let it go on with SIGCONT.

`query-term:<publish step>` is a SIGTERM, not a kill: just before that step of the publish, a
real DuckDB query runs in the main thread and the process is sent SIGTERM while it runs, so
DuckDB ends the query with its own error ("Query interrupted") where the step would have run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import aiohttp
import duckdb
from dlt.common.storages.load_package import PackageStorage
from dlt.normalize.normalize import Normalize

from armature_pipeline.cli import main
from armature_pipeline.warehouse import read_copy

PUBLISH_STEPS = {"written": "_staging_schemas", "copied": "_copy_into", "durable": "_make_durable",
                 "renamed": "_swap"}


SIGNAL = [signal.SIGKILL]  # or SIGSTOP, for `stop:<point>`


def _die() -> None:
    os.kill(os.getpid(), SIGNAL[0])


def _countdown(n: int) -> Any:
    """A tick that SIGKILLs the process on its nth call, from any thread."""
    count = 0
    lock = threading.Lock()

    def tick() -> None:
        nonlocal count
        with lock:
            count += 1
            if count == n:
                _die()

    return tick


def _after_calls(owner: Any, name: str, tick: Any) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        tick()
        return result

    setattr(owner, name, wrapper)


def _after_async_calls(owner: Any, name: str, tick: Any) -> None:
    original = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        tick()
        return result

    setattr(owner, name, wrapper)


def _term_in_a_query(owner: Any, name: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        query = duckdb.connect()
        query.execute("set threads = 1")  # the main thread runs the query, asking for signals as it goes
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        query.execute("select count(*) from range(1000000000000)").fetchall()  # ended by the signal
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def arm(point: str) -> None:
    if point.startswith("stop:"):
        SIGNAL[0], point = signal.SIGSTOP, point.removeprefix("stop:")
    kind, _, arg = point.partition(":")
    if kind == "request":  # the source's transport: the headers of the Nth answer are in
        _after_async_calls(aiohttp.ClientSession, "_request", _countdown(int(arg)))
    elif kind == "normalize":
        _after_calls(Normalize, "spool_files", _countdown(1))
    elif kind == "load":
        _after_calls(PackageStorage, "complete_job", _countdown(int(arg)))
    elif kind == "publish" and arg in PUBLISH_STEPS:
        _after_calls(read_copy, PUBLISH_STEPS[arg], _countdown(1))
    elif kind == "query-term" and arg in PUBLISH_STEPS:
        _term_in_a_query(read_copy, PUBLISH_STEPS[arg])
    else:
        raise SystemExit(f"unknown crash point {point!r}")


if __name__ == "__main__":
    arm(sys.argv[1])
    raise SystemExit(main(sys.argv[2:]))
