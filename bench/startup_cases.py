"""The bench's whole-command cases: what a cron run that finds nothing new costs, and `--help`.

    nochange        `armature-pipeline run` onto the warehouse of a backfill it made itself
                    (the backfill is not timed), the world unchanged: the whole process, imports
                    included, as cron pays it
    bare-nochange   a bare dlt pipeline (bare_pipeline.py) with resources of the same names and
                    write dispositions that yield nothing, run once to make its state and then
                    timed the same way: what dlt itself costs for a run with nothing to load
    help            `armature-pipeline run --help`
    dlt-help        `dlt --help`

Each timed command runs --startup-repeat times; the figures are the run with the median wall.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from load_report import Figures

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STARTUP_CASES = ("nochange", "bare-nochange", "help", "dlt-help")


def run_startup_case(name: str, args: Any, sim: Any, folder: Path) -> Figures:
    folder.mkdir(parents=True, exist_ok=True)
    figures = Figures(name, name, args.runs, latency_ms=args.latency_ms, max_in_flight=args.max_in_flight)
    print(f"  {name:<16} {'command':<8} {figures.runs:>6} runs, load average {os.getloadavg()[0]:.2f} ...",
          end=" ", flush=True)
    env = {**os.environ, "ARMATURE_API_KEY": sim.api_key, "RUNTIME__DLTHUB_TELEMETRY": "false",
           "RUNTIME__LOG_LEVEL": "WARNING", "DESTINATION__DUCKDB__CREDENTIALS": str(folder / "warehouse.duckdb"),
           "PYTHONPATH": os.pathsep.join([str(args.source_copy), str(ROOT)])}
    command = _command(name, sim, folder)
    if name in ("nochange", "bare-nochange"):  # the run that makes the state, untimed
        code, *_ = _timed(command, env, folder, args.timeout)
        if code != 0:
            figures.error = f"the first run exited {code}: {_tail(folder)}"
            print(f"FAILED: {figures.error}", flush=True)
            return figures
    tries = []
    figures.load_average = (os.getloadavg()[0], 0.0)
    sim.control.clear_requests()
    for _ in range(max(1, args.startup_repeat)):
        code, wall, cpu, rss = _timed(command, env, folder, args.timeout)
        if code != 0:
            figures.error = f"exit {code}: {_tail(folder)}"
            print(f"FAILED: {figures.error}", flush=True)
            return figures
        tries.append((wall, cpu, rss))
    tries.sort()
    figures.wall_s, figures.cpu_s, figures.peak_rss_mb = tries[(len(tries) - 1) // 2]
    figures.walls = [t[0] for t in tries]
    figures.load_average = (figures.load_average[0], os.getloadavg()[0])
    figures.requests = len(sim.control.requests()) // len(tries)  # a run's: what it asked to find nothing new
    sim.control.clear_requests()
    figures.ok = True
    print(f"{figures.wall_s:.2f} s", flush=True)
    return figures


def _command(name: str, sim: Any, folder: Path) -> list[str]:
    python = sys.executable
    if name == "nochange":
        return [python, "-m", "armature_pipeline.cli", "run", "--base-url", sim.api_url, "--quiet",
                "--pipeline-name", "bench", "--pipelines-dir", str(folder / "pipelines")]
    if name == "bare-nochange":
        from armature_source.source import DECLARED  # the resources, as the source declares them

        pairs = [(r.name, r.tables[0].disposition) for r in DECLARED]
        return [python, str(HERE / "bare_pipeline.py"), str(folder), json.dumps(pairs)]
    if name == "help":
        return [python, "-m", "armature_pipeline.cli", "run", "--help"]
    dlt = shutil.which("dlt", path=str(Path(python).parent)) or shutil.which("dlt")
    if dlt is None:
        raise SystemExit("dlt's command is not installed beside this Python")
    return [python, dlt, "--help"]


def _timed(command: list[str], env: dict[str, str], folder: Path, timeout: float) -> tuple[int, float, float, float]:
    """Exit code, wall s, CPU s (user + system) and peak RSS MB of one command (wait4)."""
    started = time.perf_counter()
    with (folder / "command.log").open("w") as sink:
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=sink, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, child.kill)
        killer.start()
        _, status, usage = os.wait4(child.pid, 0)
        killer.cancel()
    wall = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _tail(folder: Path, lines: int = 5) -> str:
    try:
        return " | ".join((folder / "command.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "no log"
