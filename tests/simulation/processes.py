"""The processes a history runs: the command, the library in a pipeline of its own process, a
signal at a chosen moment, a disk that fills up, all bounded by their deadlines."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from tests.simulation.destinations import Destination
from tests.support.warehouse import REPO

LOAD_DEADLINE_S = 240.0  # a small world loads in seconds; retries and waits stay well inside this
STATUS_DEADLINE_S = 60.0
FULL_DISK_BYTES = 64 * 1024


@dataclass
class Ran:
    """How one process ended: its exit code (negative for a signal; None when it outlived its
    deadline and was killed), what it printed, how long it took."""

    argv: list[str]
    code: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def hung(self) -> bool:
        return self.code is None

    def tail(self, chars: int = 1500) -> str:
        return (self.stdout[-chars // 3:] + "\n" + self.stderr[-chars:]).strip()


def env(dest: Destination) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            **dest.env()}


def command(dest: Destination, *args: str, crash_at: str | None = None) -> list[str]:
    """`armature-pipeline <args>` (`run` or `status`) for this warehouse's pipeline on its
    destination (under crash_at when given)."""
    runner = ["tests.support.crash_at", crash_at] if crash_at else ["armature_pipeline.cli"]
    return [sys.executable, "-m", *runner, *args, *dest.args(), "--pipeline-name", dest.wh.name,
            "--pipelines-dir", str(dest.wh.pipelines_dir)]


def library(dest: Destination, api_url: str, api_key: str) -> list[str]:
    """The library source in a dlt pipeline of its own process (`tests.simulation.library_load`)."""
    return [sys.executable, "-m", "tests.simulation.library_load", str(dest.wh.root), dest.wh.name, api_url,
            api_key, *dest.library_args()]


def run(dest: Destination, argv: list[str], deadline: float = LOAD_DEADLINE_S, *, full_disk: bool = False,
        signal_after: tuple[float, int] | None = None, during: Callable[[], None] | None = None) -> Ran:
    """Run `argv` in the warehouse's folder with the destination's variables and wait for it,
    at most `deadline` seconds.

    `signal_after` sends (seconds, signal) to the process if it still runs then; `during` is
    called once the process started (it may block, e.g. to release a file later); `full_disk`
    lets no file grow past 64 KiB, as a full disk does.
    """
    dest.wh.root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env(dest), cwd=dest.wh.root, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=_small_disk if full_disk else None)
    if signal_after is not None:
        try:
            process.wait(timeout=signal_after[0])
        except subprocess.TimeoutExpired:
            process.send_signal(signal_after[1])
    if during is not None:
        during()
    try:
        out, err = process.communicate(timeout=max(deadline - (time.monotonic() - started), 1.0))
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        code = None
    return Ran(argv, code, out, err, time.monotonic() - started)


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, FULL_DISK_BYTES))
