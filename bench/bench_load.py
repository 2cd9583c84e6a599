"""Load benchmark: the armature source against dlt's generic rest_api source and the HTTP floor.

    python bench/bench_load.py                 # every case (the baselines take minutes)
    python bench/bench_load.py --quick         # a 300-run world and a reduced set of cases
    python bench/bench_load.py --cases ours,floor --runs 5000 --latency-ms 50

Cases, each in its own child process (so peak RSS is the case's own, read with wait4):
    ours              the armature source into DuckDB (a first load: the backfill)
    before            the same with the source as it was at --before (extracted with `git
                      archive` and run beside, httpx as its transport): our CPU against it
    baseline          dlt's rest_api source, configured by hand for the same endpoints
    floor             the same HTTP requests at the source's concurrency with the fastest
                      client measured (aiohttp, one loop), bodies parsed with orjson and dropped
    ours-large        ours on a --large-runs world
    floor-large       the floor on a --large-runs world
    incremental       a second run of ours on the same pipeline, with nothing new (onto the
                      warehouse of `ours` if that ran first, else after its own backfill)
    ours-slow         ours on a --slow-runs world at --slow-latency-ms (100 ms)
    floor-slow        the floor on the same world and latency
    fixed-slow        the same, its in-flight limit pinned at 8 (the client before it adapted)
    baseline-slow     the rest_api baseline on the same world and latency
    ours-limited      ours on the --slow-runs world behind the simulator's token bucket of
                      --rate-limit-rps requests/s (honest Retry-After), at --latency-ms
    baseline-limited  the rest_api baseline behind the same bucket
    nochange, bare-nochange, help, dlt-help
                      whole commands, imports included: see startup_cases.py

The simulator runs as a subprocess on this machine, rebuilt from its seed before each case;
before each case the benchmark waits (up to --max-wait s) for the machine's 1-minute load
average to fall below --wait-load, and prints it beside the case. The source is copied when
the benchmark starts, so every case measures the same code. Requests and 429s come from the
simulator's request log; rows from the destination (records parsed, for the floor). The
figures are printed and written to bench/results/latest.json. A benchmark never fails for
being slow: it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from load_report import Figures, build_report, print_report, short  # noqa: E402
from startup_cases import STARTUP_CASES, run_startup_case  # noqa: E402

from armature_pipeline.settings import DEFAULT_DATASET as DATASET  # noqa: E402

CHILD = HERE / "load_child.py"
# the source before the aiohttp transport (issue 24): the `before` case runs it beside ours
BEFORE_REVISION = "3f1ff9f"
RESULTS = HERE / "results" / "latest.json"
_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Case:
    """How one case runs: which child, on which world, at which latency, behind which limit."""

    kind: str  # ours, before, baseline, floor or fixed
    world: str = "runs"  # runs, large or slow: which --*-runs sizes the world
    slow: bool = False  # at --slow-latency-ms instead of --latency-ms
    limited: bool = False  # behind --rate-limit-rps
    pinned: int | None = None  # in flight, instead of --max-in-flight


CASES: dict[str, Case] = {
    "ours": Case("ours"),
    "before": Case("before"),
    "baseline": Case("baseline"),
    "floor": Case("floor"),
    "ours-large": Case("ours", "large"),
    "floor-large": Case("floor", "large"),
    "incremental": Case("ours"),
    "ours-slow": Case("ours", "slow", slow=True),
    "floor-slow": Case("floor", "slow", slow=True),
    "fixed-slow": Case("fixed", "slow", slow=True, pinned=8),
    "baseline-slow": Case("baseline", "slow", slow=True),
    "ours-limited": Case("ours", "slow", limited=True),
    "baseline-limited": Case("baseline", "slow", limited=True),
}
ALL_CASES = (*CASES, *STARTUP_CASES)
QUICK_CASES = ("ours", "before", "baseline", "floor", "incremental", "ours-slow", "floor-slow",
               "fixed-slow", "ours-limited", *STARTUP_CASES)
QUICK_RUNS = 300


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="armature-bench-"))
    args.source_copy = snapshot_source(workdir)
    args.before_tree = extract_before(args.before, workdir) if "before" in args.cases else None
    from armature_sim.server import spawn

    sim = spawn(seed=args.seed, runs=args.runs, days=30, sessions=args.sessions,
                latency_ms=args.latency_ms)
    try:
        print(f"simulator at {sim.api_url}, seed {args.seed}, {args.sessions} sessions, "
              f"{args.latency_ms} ms latency; cases: {', '.join(args.cases)}", flush=True)
        results = run_cases(args, sim, workdir)
    finally:
        sim.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = build_report(args, results)
    print_report(report, results)
    target = Path(args.json)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten to {target}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a {QUICK_RUNS}-run world, cases {','.join(QUICK_CASES)} (smoke test)")
    parser.add_argument("--cases", help=f"comma-separated, from {','.join(ALL_CASES)}")
    parser.add_argument("--runs", type=int, help="runs in the world (default 2000, 300 with --quick)")
    parser.add_argument("--large-runs", type=int, default=20_000, help="runs for the -large cases")
    parser.add_argument("--slow-runs", type=int, help="runs for the -slow and -limited cases (default --runs)")
    parser.add_argument("--latency-ms", type=int, default=20, help="latency the simulator adds")
    parser.add_argument("--slow-latency-ms", type=int, default=100, help="latency of the -slow cases")
    parser.add_argument("--rate-limit-rps", type=float, default=100.0,
                        help="the token bucket of the -limited cases, requests/s")
    parser.add_argument("--sessions", type=int, default=2000, help="sessions in the world")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-in-flight", type=int, default=32,
                        help="ours' and the floor's concurrency (ours' default)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each case this many times and report the median wall time")
    parser.add_argument("--wait-load", type=float, default=1.5,
                        help="wait before each case until the 1-minute load average is below this (0: no wait)")
    parser.add_argument("--max-wait", type=float, help="longest wait for that, s (300; 15 with --quick)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a case is killed")
    parser.add_argument("--before", default=BEFORE_REVISION, help="the commit the `before` case runs")
    parser.add_argument("--startup-repeat", type=int,
                        help="times each whole-command case runs, the median shown (5; 1 with --quick)")
    parser.add_argument("--json", default=str(RESULTS), help="where the figures go as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (warehouses, logs)")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else 2000
    if args.slow_runs is None:
        args.slow_runs = args.runs
    if args.startup_repeat is None:
        args.startup_repeat = 1 if args.quick else 5
    if args.max_wait is None:
        args.max_wait = 15.0 if args.quick else 300.0
    default = QUICK_CASES if args.quick else ALL_CASES
    args.cases = tuple(c.strip() for c in args.cases.split(",")) if args.cases else default
    unknown = [c for c in args.cases if c not in ALL_CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(ALL_CASES)}")
    return args


def snapshot_source(workdir: Path) -> Path:
    """Copy the armature source as it is now: every case measures the same code, even if the
    working tree changes while the benchmark runs."""
    target = workdir / "source"
    shutil.copytree(ROOT / "armature_source", target / "armature_source",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


def extract_before(revision: str, workdir: Path) -> Path:
    """The packages as they were at `revision`, extracted beside the work folder's copy."""
    target = workdir / "before"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision, "armature_source", "armature_pipeline",
                              "armature_analytics"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_cases(args: argparse.Namespace, sim: Any, workdir: Path) -> list[Figures]:
    results: list[Figures] = []
    for name in args.cases:
        if name in STARTUP_CASES:  # on the world of `ours`, with nothing new since its backfill
            wait_for_quiet(args)
            reset(sim, args, blank(name, CASES["ours"], args))
            results.append(run_startup_case(name, args, sim, workdir / name))
            continue
        if name != "incremental":
            results.append(repeated(name, args, sim, workdir / name))
            continue
        # the second run goes onto a warehouse of `ours` when it ran; else it backfills first
        folder = workdir / "ours" / "1"
        if not any(f.case == "ours" and f.ok for f in results):
            folder = workdir / name
            results.append(repeated("backfill", args, sim, folder, times=1, spec=CASES["ours"]))
        results.append(repeated(name, args, sim, folder, first=False))
    return results


def repeated(name: str, args: argparse.Namespace, sim: Any, folder: Path, first: bool = True,
             times: int | None = None, spec: Case | None = None) -> Figures:
    """Measure a case --repeat times; the figures of the run with the median wall time.

    A first load needs an empty warehouse, so each repeat of one gets a folder of its own.
    """
    spec = spec or CASES[name]
    tries = []
    for n in range(1, (times or args.repeat) + 1):
        figures = blank(name, spec, args)
        wait_for_quiet(args)
        reset(sim, args, figures)  # the same seed: the incremental case sees the backfill's world
        tries.append(measure(figures, args, sim, folder / str(n) if first else folder, first))
    done = sorted((f for f in tries if f.ok), key=lambda f: f.wall_s)
    if not done:
        return tries[-1]
    median = done[(len(done) - 1) // 2]
    median.walls = [f.wall_s for f in tries if f.ok]
    return median


def blank(name: str, spec: Case, args: argparse.Namespace) -> Figures:
    runs = {"runs": args.runs, "large": args.large_runs, "slow": args.slow_runs}[spec.world]
    return Figures(
        name, spec.kind, runs,
        latency_ms=args.slow_latency_ms if spec.slow else args.latency_ms,
        rate_limit_rps=args.rate_limit_rps if spec.limited else 0.0,
        max_in_flight=spec.pinned or args.max_in_flight,
    )


def wait_for_quiet(args: argparse.Namespace) -> None:
    """Wait until the machine's 1-minute load average falls below --wait-load (or --max-wait)."""
    if args.wait_load <= 0:
        return
    started = time.monotonic()
    while os.getloadavg()[0] >= args.wait_load and time.monotonic() - started < args.max_wait:
        time.sleep(2)


def reset(sim: Any, args: argparse.Namespace, figures: Figures) -> None:
    """Rebuild the world from its seed: every case starts against cold simulator caches."""
    sim.control.reset(runs=figures.runs, sessions=args.sessions, latency_ms=figures.latency_ms,
                      seed=args.seed, rate_limit_rps=figures.rate_limit_rps)
    sim.control.clear_requests()


def measure(figures: Figures, args: argparse.Namespace, sim: Any, folder: Path, first: bool = True) -> Figures:
    """Run one case in a fresh child process and collect its figures."""
    print(f"  {figures.case:<16} {figures.kind:<8} {figures.runs:>6} runs, {figures.latency_ms} ms"
          f"{f', {figures.rate_limit_rps:g} requests/s' if figures.rate_limit_rps else ''}, "
          f"load average {os.getloadavg()[0]:.2f} ...", end=" ", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    out, log = folder / f"{figures.case}.json", folder / f"{figures.case}.log"
    sim_cpu_before, load_before = sim_cpu_seconds(sim), os.getloadavg()[0]
    started = time.perf_counter()
    exit_code, usage = run_child(figures, args, sim, folder, out, log)
    figures.process_wall_s = time.perf_counter() - started
    figures.peak_rss_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    figures.cpu_s = usage.ru_utime + usage.ru_stime
    figures.sim_cpu_s = _spent(sim_cpu_before, sim_cpu_seconds(sim))
    figures.load_average = (load_before, os.getloadavg()[0])
    served = sim.control.requests()
    sim.control.clear_requests()
    figures.requests = len(served)
    figures.rate_limited = sum(1 for r in served if r.get("rate_limited"))
    figures.requests_by_endpoint = dict(Counter(_endpoint(r) for r in served))
    result = json.loads(out.read_text()) if out.exists() else {}
    figures.ok = bool(result.get("ok"))
    if not figures.ok:
        figures.error = result.get("error") or f"exit {exit_code}: {_tail(log)}"
        print(f"FAILED: {short(figures.error)} (log: {log})", flush=True)
        return figures
    figures.wall_s = result["wall_s"]
    if figures.case in PUBLISHED and first:
        publish_copy(figures, folder)
    figures.steps = result.get("steps", {})
    figures.clients = result.get("clients", [])
    if figures.clients:
        figures.http_cpu_s = sum(c["loop_cpu_s"] for c in figures.clients)
    figures.rows_by_table = rows_of(figures.kind, result, folder, first)
    figures.rows = sum(figures.rows_by_table.values())
    print(f"{figures.wall_s:.1f} s", flush=True)
    return figures


# the backfills whose read copy is published after them, in a process of its own (so the
# load's CPU and peak RSS stay the load's)
PUBLISHED = ("ours", "ours-large")
PUBLISH = """
import json, sys
from pathlib import Path
from armature_pipeline.warehouse.read_copy import publish
warehouse = Path(sys.argv[1]) / "warehouse.duckdb"
done = publish(warehouse, warehouse.with_name("warehouse_read.duckdb"))
print(json.dumps({"seconds": done.seconds, "copy_mb": done.bytes / 1e6,
                  "warehouse_mb": warehouse.stat().st_size / 1e6}))
"""


def publish_copy(figures: Figures, folder: Path) -> None:
    """Publish the read copy of the warehouse the case loaded, as the command does after a
    load, and keep its time and the sizes of the copy and the warehouse."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PUBLISH, str(folder)], capture_output=True, text=True,
                          env=env, cwd=folder, timeout=1800)
    if done.returncode != 0:
        print(f"(publishing the read copy failed: {short(done.stderr)})", end=" ", flush=True)
        return
    found = json.loads(done.stdout.strip().splitlines()[-1])
    figures.publish_s, figures.copy_mb, figures.warehouse_mb = found["seconds"], found["copy_mb"], found["warehouse_mb"]


def run_child(figures: Figures, args: argparse.Namespace, sim: Any, folder: Path, out: Path,
              log: Path) -> tuple[int, Any]:
    """Run load_child.py to its end; its exit code and its own resource usage (wait4)."""
    before = figures.kind == "before"
    kind = "ours" if before else figures.kind
    command = [sys.executable, str(CHILD), kind, "--api-url", sim.api_url, "--workdir",
               str(folder), "--out", str(out), "--max-in-flight", str(figures.max_in_flight)]
    env = {**os.environ, "ARMATURE_API_KEY": sim.api_key, "RUNTIME__DLTHUB_TELEMETRY": "false",
           "RUNTIME__LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(args.before_tree if before else os.pathsep.join([str(args.source_copy), str(ROOT)]))}
    with log.open("w") as sink:
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=sink, stderr=subprocess.STDOUT)
        killer = threading.Timer(args.timeout, child.kill)
        killer.start()
        # wait4 rather than RUSAGE_CHILDREN: the latter is the maximum over all children so far
        _, status, usage = os.wait4(child.pid, 0)
        killer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage


def rows_of(kind: str, result: dict[str, Any], folder: Path, first: bool) -> dict[str, int]:
    """Rows per table: parsed (floor), in the destination (a first load), or written (later)."""
    if kind == "floor":
        return dict(result["rows_parsed"])
    if first:
        return loaded_rows(folder / "warehouse.duckdb")
    # Arrow rows carry no _dlt_load_id to count by: take what dlt wrote in this load
    return {t: n for t, n in result["normalized_rows"].items() if not t.startswith("_dlt")}


def _spent(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def sim_cpu_seconds(sim: Any) -> float | None:
    """CPU seconds the simulator process has used so far (Linux /proc), or None."""
    pid = getattr(sim, "pid", None) or getattr(getattr(sim, "process", None), "pid", None)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _endpoint(entry: dict[str, Any]) -> str:
    return _ID.sub("/{id}", str(entry.get("path", "")))


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"no log ({exc})"


def loaded_rows(db: Path) -> dict[str, int]:
    """Rows per data table in the destination."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_name not like '\\_dlt%' escape '\\' order by 1", [DATASET]).fetchall()]
        return {
            table: int(con.execute(f'select count(*) from {DATASET}."{table}"').fetchall()[0][0])
            for table in tables
        }


if __name__ == "__main__":
    sys.exit(main())
