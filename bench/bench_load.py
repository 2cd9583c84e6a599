"""Load benchmark: the armature source against dlt's generic rest_api source and the HTTP floor.

    python bench/bench_load.py                 # every case (the baseline takes minutes)
    python bench/bench_load.py --quick         # a 300-run world: ours, baseline, floor, incremental
    python bench/bench_load.py --cases ours,floor --runs 5000 --latency-ms 50

Cases, each in its own child process (so peak RSS is the case's own, read with wait4):
    ours         the armature source into DuckDB (a first load: the backfill)
    baseline     dlt's rest_api source, configured by hand for the same endpoints
    floor        the same HTTP requests at the source's concurrency, bodies parsed and dropped
    ours-large   ours on a --large-runs world
    floor-large  the floor on a --large-runs world
    incremental  a second run of ours on the same pipeline, with nothing new (onto the
                 warehouse of `ours` if that ran first, else after its own backfill)

The simulator runs as a subprocess on this machine, rebuilt from its seed before each case.
The source is copied when the benchmark starts, so every case measures the same code.
Requests come from its request log; rows from the destination (records parsed, for the
floor). The figures are printed and written to bench/results/latest.json. A benchmark
never fails for being slow: it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

CHILD = HERE / "load_child.py"
RESULTS = HERE / "results" / "latest.json"
ALL_CASES = ("ours", "baseline", "floor", "ours-large", "floor-large", "incremental")
QUICK_CASES = ("ours", "baseline", "floor", "incremental")
QUICK_RUNS = 300
from pipelines.settings import DEFAULT_DATASET as DATASET  # noqa: E402
_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Figures:
    """What one child process did, as printed in one line of the table."""

    case: str
    kind: str
    runs: int
    ok: bool = False
    wall_s: float = 0.0
    requests: int = 0
    rows: int = 0
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    sim_cpu_s: float | None = None
    load_average: tuple[float, float] = (0.0, 0.0)
    process_wall_s: float = 0.0
    walls: list[float] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s else 0.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="armature-bench-"))
    args.source_copy = snapshot_source(workdir)
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
    parser.add_argument("--latency-ms", type=int, default=20, help="latency the simulator adds")
    parser.add_argument("--sessions", type=int, default=2000, help="sessions in the world")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-in-flight", type=int, default=8, help="ours' and the floor's concurrency")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each case this many times and report the median wall time")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a case is killed")
    parser.add_argument("--json", default=str(RESULTS), help="where the figures go as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (warehouses, logs)")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else 2000
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


def run_cases(args: argparse.Namespace, sim: Any, workdir: Path) -> list[Figures]:
    results: list[Figures] = []
    for case in args.cases:
        runs = args.large_runs if case.endswith("-large") else args.runs
        kind = case.removesuffix("-large")
        if case != "incremental":
            results.append(repeated(case, kind, runs, args, sim, workdir / case))
            continue
        # the second run goes onto a warehouse of `ours` when it ran; else it backfills first
        folder = workdir / "ours" / "1"
        if not any(f.case == "ours" and f.ok for f in results):
            folder = workdir / case
            results.append(repeated("backfill", "ours", runs, args, sim, folder, times=1))
        results.append(repeated(case, "ours", runs, args, sim, folder, first=False))
    return results


def repeated(case: str, kind: str, runs: int, args: argparse.Namespace, sim: Any, folder: Path,
             first: bool = True, times: int | None = None) -> Figures:
    """Measure a case --repeat times; the figures of the run with the median wall time.

    A first load needs an empty warehouse, so each repeat of one gets a folder of its own.
    """
    tries = []
    for n in range(1, (times or args.repeat) + 1):
        reset(sim, args, runs)
        tries.append(measure(case, kind, runs, args, sim, folder / str(n) if first else folder, first))
    done = sorted((f for f in tries if f.ok), key=lambda f: f.wall_s)
    if not done:
        return tries[-1]
    median = done[(len(done) - 1) // 2]
    median.walls = [f.wall_s for f in tries if f.ok]
    return median


def reset(sim: Any, args: argparse.Namespace, runs: int) -> None:
    """Rebuild the world from its seed: every case starts against cold simulator caches."""
    sim.control.reset(runs=runs, sessions=args.sessions, latency_ms=args.latency_ms, seed=args.seed)
    sim.control.clear_requests()


def measure(case: str, kind: str, runs: int, args: argparse.Namespace, sim: Any, folder: Path,
            first: bool = True) -> Figures:
    """Run one case in a fresh child process and collect its figures."""
    print(f"  {case:<12} {kind:<8} {runs:>6} runs ...", end=" ", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    out, log = folder / f"{case}.json", folder / f"{case}.log"
    sim_cpu_before, load_before = sim_cpu_seconds(sim), os.getloadavg()[0]
    started = time.perf_counter()
    exit_code, usage = run_child(kind, args, sim, folder, out, log)
    figures = Figures(
        case, kind, runs, process_wall_s=time.perf_counter() - started,
        peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        cpu_s=usage.ru_utime + usage.ru_stime,
        sim_cpu_s=_spent(sim_cpu_before, sim_cpu_seconds(sim)),
        load_average=(load_before, os.getloadavg()[0]),
    )
    served = sim.control.requests()
    sim.control.clear_requests()
    figures.requests = len(served)
    figures.requests_by_endpoint = dict(Counter(_endpoint(r) for r in served))
    result = json.loads(out.read_text()) if out.exists() else {}
    figures.ok = bool(result.get("ok"))
    if not figures.ok:
        figures.error = result.get("error") or f"exit {exit_code}: {_tail(log)}"
        print(f"FAILED: {_short(figures.error)} (log: {log})", flush=True)
        return figures
    figures.wall_s = result["wall_s"]
    figures.steps = result.get("steps", {})
    figures.rows_by_table = rows_of(kind, result, folder, first)
    figures.rows = sum(figures.rows_by_table.values())
    print(f"{figures.wall_s:.1f} s", flush=True)
    return figures


def run_child(kind: str, args: argparse.Namespace, sim: Any, folder: Path, out: Path,
              log: Path) -> tuple[int, Any]:
    """Run load_child.py to its end; its exit code and its own resource usage (wait4)."""
    command = [sys.executable, str(CHILD), kind, "--api-url", sim.api_url, "--workdir", str(folder),
               "--out", str(out), "--max-in-flight", str(args.max_in_flight)]
    env = {**os.environ, "ARMATURE_API_KEY": sim.api_key, "RUNTIME__DLTHUB_TELEMETRY": "false",
           "RUNTIME__LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join([str(args.source_copy), str(ROOT)])}
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


def _short(error: str) -> str:
    """First and last line of an error: dlt's step and the exception underneath."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return " ... ".join(dict.fromkeys([lines[0][:120], lines[-1][:160]])) if lines else "no error text"


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


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dlt": metadata.version("dlt"),
    }


def source_revision() -> str:
    """The commit the armature source was measured at, `+dirty` if it had local changes."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "armature_source") else "")


def build_report(args: argparse.Namespace, results: list[Figures]) -> dict[str, Any]:
    by_case = {f.case: f for f in results if f.ok}
    ratios: dict[str, float] = {}

    def ratio(name: str, top: str, bottom: str, what: str = "wall_s") -> None:
        if top in by_case and bottom in by_case and getattr(by_case[bottom], what):
            ratios[name] = getattr(by_case[top], what) / getattr(by_case[bottom], what)

    ratio(f"baseline/ours wall @{args.runs} runs", "baseline", "ours")
    ratio(f"baseline/ours peak RSS @{args.runs} runs", "baseline", "ours", "peak_rss_mb")
    ratio(f"ours/floor wall @{args.runs} runs", "ours", "floor")
    ratio(f"ours/floor wall @{args.large_runs} runs", "ours-large", "floor-large")
    backfill = "backfill" if "backfill" in by_case else "ours"
    ratio(f"incremental/backfill wall @{args.runs} runs", "incremental", backfill)
    return {
        "machine": machine(),
        "settings": {
            "runs": args.runs, "large_runs": args.large_runs, "latency_ms": args.latency_ms,
            "sessions": args.sessions, "seed": args.seed, "max_in_flight": args.max_in_flight,
            "repeat": args.repeat,
            "quick": args.quick, "simulator": "local subprocess on the same machine",
            "source_revision": source_revision(),
        },
        "cases": [
            {**asdict(f), "requests_per_s": f.requests_per_s, "rows_per_s": f.rows_per_s}
            for f in results
        ],
        "ratios": ratios,
    }


def print_report(report: dict[str, Any], results: list[Figures]) -> None:
    header = (f"{'case':<12} {'runs':>6} {'wall s':>8} {'requests':>9} {'req/s':>7} {'rows':>9} "
              f"{'rows/s':>8} {'peak RSS MB':>11} {'cpu s':>7} {'sim cpu s':>9}")
    print(f"\n{header}\n{'-' * len(header)}")
    for f in results:
        if not f.ok:
            print(f"{f.case:<12} {f.runs:>6}  FAILED: {_short(f.error or '')}")
            continue
        sim_cpu = f"{f.sim_cpu_s:9.1f}" if f.sim_cpu_s is not None else f"{'n/a':>9}"
        print(f"{f.case:<12} {f.runs:>6} {f.wall_s:8.2f} {f.requests:>9} {f.requests_per_s:7.0f} "
              f"{f.rows:>9} {f.rows_per_s:8.0f} {f.peak_rss_mb:11.0f} {f.cpu_s:7.1f} {sim_cpu}")
    if any(len(f.walls) > 1 for f in results):
        print("\nwall s of every repeat (the table shows the median)")
        for f in results:
            print(f"  {f.case:<12} " + ", ".join(f"{w:.2f}" for w in f.walls))
    print("\nratios")
    for name, value in report["ratios"].items():
        print(f"  {name:<40} {value:8.2f}")
    m, s = report["machine"], report["settings"]
    print(f"\nmachine: {m['cores']} cores, {m['cpu_model']}, {m['platform']}, "
          f"Python {m['python']}, dlt {m['dlt']}")
    print(f"settings: {s['latency_ms']} ms added latency, max_in_flight {s['max_in_flight']}, "
          f"{s['sessions']} sessions, seed {s['seed']}, source at {s['source_revision']}; "
          "the simulator shares this machine's cores")
    busiest = max((max(f.load_average) for f in results), default=0.0)
    print(f"busiest 1-minute load average during a case: {busiest:.1f} on {m['cores']} cores "
          "(other work on the machine slows every case)")
    print("wall s: the load alone, after imports; cpu s: the child's user+system time; "
          "rows: in the destination (records parsed, for the floor)")


if __name__ == "__main__":
    sys.exit(main())
