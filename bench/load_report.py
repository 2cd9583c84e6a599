"""The figures of bench_load.py: one line per case, the ratios between cases, the machine."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figures:
    """What one child process did, as printed in one line of the table."""

    case: str
    kind: str
    runs: int
    latency_ms: int = 0
    rate_limit_rps: float = 0.0
    max_in_flight: int = 0
    ok: bool = False
    wall_s: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    rows: int = 0
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    http_cpu_s: float | None = None  # ours: the CPU of the client's event-loop thread alone
    sim_cpu_s: float | None = None
    load_average: tuple[float, float] = (0.0, 0.0)
    process_wall_s: float = 0.0
    walls: list[float] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)
    clients: list[dict[str, Any]] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    # ours: publishing the read copy of the warehouse the backfill made, and the sizes
    publish_s: float | None = None
    copy_mb: float | None = None
    warehouse_mb: float | None = None
    error: str | None = None

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    @property
    def http_s(self) -> float:
        """How long the requests took: dlt's extract step, or the whole wall for the floor."""
        return self.steps.get("extract", self.wall_s)

    def rate_use(self) -> float | None:
        """The requests the host let through, as a share of all its token bucket allowed
        while the requests went on (its rate over that time plus one burst of a second's worth)."""
        if not self.rate_limit_rps or not self.http_s:
            return None
        allowed = self.rate_limit_rps * self.http_s + max(1.0, self.rate_limit_rps)
        return (self.requests - self.rate_limited) / allowed


def build_report(args: Any, results: list[Figures]) -> dict[str, Any]:
    by_case = {f.case: f for f in results if f.ok}
    ratios: dict[str, float] = {}

    def ratio(name: str, top: str, bottom: str, what: str = "wall_s") -> None:
        if top in by_case and bottom in by_case and getattr(by_case[bottom], what):
            ratios[name] = getattr(by_case[top], what) / getattr(by_case[bottom], what)

    def per_1000(name: str, case: str, what: str, per: str) -> None:
        f = by_case.get(case)
        value = getattr(f, what) if f else None
        count = (f.runs if per == "runs" else f.requests) if f else 0
        if value is not None and count:
            ratios[name] = value * 1000 / count

    n, large, slow = args.runs, args.large_runs, args.slow_runs
    ratio(f"baseline/ours wall @{n} runs", "baseline", "ours")
    ratio(f"baseline/ours peak RSS @{n} runs", "baseline", "ours", "peak_rss_mb")
    ratio(f"ours/floor wall @{n} runs", "ours", "floor")
    ratio(f"ours/floor wall @{large} runs", "ours-large", "floor-large")
    ratio(f"ours/floor cpu @{n} runs", "ours", "floor", "cpu_s")
    ratio(f"ours/floor cpu @{large} runs", "ours-large", "floor-large", "cpu_s")
    for case in ("ours", "floor", "ours-large", "floor-large"):
        per_1000(f"{case} cpu s per 1000 runs", case, "cpu_s", "runs")
    for case in ("ours", "floor", "ours-large", "floor-large"):
        per_1000(f"{case} cpu ms per request", case, "cpu_s", "requests")
    for case in ("ours", "ours-large"):
        per_1000(f"{case} http-thread cpu ms per request", case, "http_cpu_s", "requests")
    ratio(f"ours peak RSS @{large}/@{n} runs", "ours-large", "ours", "peak_rss_mb")
    if "ours-large" in by_case:
        ratios[f"ours peak RSS MB @{large} runs"] = by_case["ours-large"].peak_rss_mb
    for case in ("before",):
        per_1000(f"{case} cpu s per 1000 runs", case, "cpu_s", "runs")
    if "ours" in by_case and "before" in by_case and by_case["before"].cpu_s:
        ours, before = by_case["ours"], by_case["before"]
        ratios[f"ours/before cpu per 1000 runs @{n} runs"] = (ours.cpu_s / ours.runs) / (before.cpu_s / before.runs)
    ratio(f"ours/floor wall @{args.slow_latency_ms} ms, {slow} runs", "ours-slow", "floor-slow")
    ratio("no-change load/bare dlt pipeline wall", "nochange", "bare-nochange")
    ratio("run --help/dlt --help wall", "help", "dlt-help")
    for case, runs in (("ours", n), ("ours-large", large)):
        f = by_case.get(case)
        if f is not None and f.publish_s is not None and f.wall_s:
            ratios[f"read copy publish/backfill wall @{runs} runs"] = f.publish_s / f.wall_s
    backfill = "backfill" if "backfill" in by_case else "ours"
    ratio(f"incremental/backfill wall @{n} runs", "incremental", backfill)
    ratio(f"fixed-8/ours wall @{args.slow_latency_ms} ms, {slow} runs", "fixed-slow", "ours-slow")
    ratio(f"baseline/ours wall @{args.slow_latency_ms} ms, {slow} runs", "baseline-slow", "ours-slow")
    for case in ("ours-limited", "baseline-limited"):
        f = by_case.get(case)
        if f is not None and f.rate_use() is not None:
            ratios[f"{case} share of allowed rate used"] = f.rate_use() or 0.0
            ratios[f"{case} share of requests answered 429"] = f.rate_limited / max(1, f.requests)
    return {
        "machine": machine(),
        "targets": targets(ratios, n, large, slow, args.slow_latency_ms),
        "settings": {
            "runs": n, "large_runs": large, "latency_ms": args.latency_ms, "slow_runs": slow,
            "slow_latency_ms": args.slow_latency_ms, "rate_limit_rps": args.rate_limit_rps,
            "sessions": args.sessions, "seed": args.seed, "max_in_flight": args.max_in_flight,
            "repeat": args.repeat, "wait_load": args.wait_load,
            "quick": args.quick, "simulator": "local subprocess on the same machine",
            "source_revision": source_revision(),
        },
        "cases": [
            {**asdict(f), "requests_per_s": f.requests_per_s, "rate_use": f.rate_use()}
            for f in results
        ],
        "ratios": ratios,
    }


def print_report(report: dict[str, Any], results: list[Figures]) -> None:
    header = (f"{'case':<16} {'runs':>6} {'lat ms':>6} {'rps cap':>7} {'in fl':>5} {'wall s':>8} "
              f"{'requests':>9} {'req/s':>7} {'429s':>5} {'rows':>9} {'peak RSS MB':>11} "
              f"{'cpu s':>7} {'http cpu':>8} {'sim cpu s':>9} {'load avg':>9}")
    print(f"\n{header}\n{'-' * len(header)}")
    for f in results:
        if not f.ok:
            print(f"{f.case:<16} {f.runs:>6}  FAILED: {short(f.error or '')}")
            continue
        sim_cpu = f"{f.sim_cpu_s:9.1f}" if f.sim_cpu_s is not None else f"{'n/a':>9}"
        http_cpu = f"{f.http_cpu_s:8.1f}" if f.http_cpu_s is not None else f"{'n/a':>8}"
        rps = f"{f.rate_limit_rps:7g}" if f.rate_limit_rps else f"{'-':>7}"
        load = f"{f.load_average[0]:.1f}-{f.load_average[1]:.1f}"
        print(f"{f.case:<16} {f.runs:>6} {f.latency_ms:>6} {rps} {f.max_in_flight:>5} {f.wall_s:8.2f} "
              f"{f.requests:>9} {f.requests_per_s:7.0f} {f.rate_limited:>5} {f.rows:>9} "
              f"{f.peak_rss_mb:11.0f} {f.cpu_s:7.1f} {http_cpu} {sim_cpu} {load:>9}")
    published = [f for f in results if f.ok and f.publish_s is not None and f.kind == "ours"
                 and f.case in ("ours", "ours-large")]
    if published:
        print("\nread copy: published after the backfill (DuckDB storage v1.4.0)")
        for f in published:
            print(f"  {f.case:<16} {f.runs:>6} runs: publish {f.publish_s:.2f} s, copy {f.copy_mb or 0:.1f} MB, "
                  f"warehouse {f.warehouse_mb or 0:.1f} MB, backfill {f.wall_s:.1f} s")
    if any(len(f.walls) > 1 for f in results):
        print("\nwall s of every repeat (the table shows the median)")
        for f in results:
            print(f"  {f.case:<16} " + ", ".join(f"{w:.2f}" for w in f.walls))
    print("\nratios and per-unit figures")
    for name, value in report["ratios"].items():
        print(f"  {name:<52} {value:8.2f}")
    print("\nissue 24's targets (n/a: its cases did not run)")
    for name, (value, limit, met) in report["targets"].items():
        shown = "n/a" if value is None else f"{value:8.2f}"
        verdict = "" if value is None else ("met" if met else "NOT met")
        print(f"  {name:<52} {shown:>8} {limit:<10} {verdict}")
    m, s = report["machine"], report["settings"]
    print(f"\nmachine: {m['cores']} cores, {m['cpu_model']}, {m['platform']}, "
          f"Python {m['python']}, dlt {m['dlt']}")
    print(f"settings: {s['latency_ms']} ms added latency ({s['slow_latency_ms']} ms for the -slow "
          f"cases), max_in_flight {s['max_in_flight']}, {s['sessions']} sessions, seed {s['seed']}, "
          f"source at {s['source_revision']}; the simulator shares this machine's cores")
    busiest = max((max(f.load_average) for f in results), default=0.0)
    print(f"busiest 1-minute load average at a case's start or end: {busiest:.1f} on {m['cores']} "
          f"cores; each case waited for it to fall below {s['wait_load']:g} first (0: no wait)")
    print("wall s: the load alone, after imports; cpu s: the child's user+system time; http cpu: "
          "ours' client event-loop thread alone; 429s: answers the simulator rate-limited; "
          "rows: in the destination (records parsed, for the floor)")


def targets(ratios: dict[str, float], n: int, large: int, slow: int, slow_ms: int) -> dict[str, Any]:
    """Each target of issue 24: (its figure or None, the bound as text, whether it is met)."""
    bounds = [
        (f"ours/before cpu per 1000 runs @{n} runs", "<= 0.5", 0.5),
        (f"ours/floor cpu @{n} runs", "<= 1.5", 1.5),
        (f"ours/floor wall @{n} runs", "<= 1.25", 1.25),
        (f"ours/floor cpu @{large} runs", "<= 1.5", 1.5),
        (f"ours/floor wall @{large} runs", "<= 1.25", 1.25),
        (f"ours/floor wall @{slow_ms} ms, {slow} runs", "<= 1.1", 1.1),
        ("ours-limited share of allowed rate used", ">= 0.90", -0.9),
        ("ours-limited share of requests answered 429", "<= 0.05", 0.05),
        (f"ours peak RSS MB @{large} runs", "<= 600", 600.0),
        (f"ours peak RSS @{large}/@{n} runs", "<= 1.3", 1.3),
        ("no-change load/bare dlt pipeline wall", "<= 1.5", 1.5),
        ("run --help/dlt --help wall", "<= 1.5", 1.5),
    ]
    found: dict[str, Any] = {}
    for name, text, bound in bounds:
        value = ratios.get(name)
        met = None if value is None else (value >= -bound if bound < 0 else value <= bound)
        found[name] = (value, text, met)
    return found


def short(error: str) -> str:
    """First and last line of an error: dlt's step and the exception underneath."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return " ... ".join(dict.fromkeys([lines[0][:120], lines[-1][:160]])) if lines else "no error text"


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
