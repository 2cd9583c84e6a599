"""How fast the simulator builds its world and serves it; prints figures and ratios.

    python bench/bench_sim.py [--runs 2000,20000] [--serve-runs 3000] [--seconds 1] [--rounds 3]
                              [--rps 50]

World build: each size is built in a fresh interpreter; peak memory is that interpreter's
VmHWM (which, unlike ru_maxrss, does not inherit the parent's peak across fork and exec).

Serving: requests per CPU second for a 100-row runs page and a terminal run's trace,
in-process (the ASGI app called directly, no sockets: the simulator's own cost) under each
pressure against the plain simulator, then requests/s over real sockets with one keep-alive
client, without and with a rate limit (the share of 429s is read from the truth; served/s
includes the first full bucket).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from armature_sim.http.app import create_app
from armature_sim.server import spawn
from armature_sim.vocabulary import API_PREFIX, DEFAULT_KEY, RUNS_WINDOW, SimOptions

PROBE = """
import json, time
t = time.perf_counter()
from armature_sim.vocabulary import WorldOptions
from armature_sim.world import World
w = World(WorldOptions(runs={runs}))
took = time.perf_counter() - t
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({{"runs": len(w.runs.plans), "seconds": round(took, 3), "peak_mib": round(hwm / 1024, 1)}}))
"""
PAGE = ("/runs", "range=30d&pageSize=100")
# pressure -> the options it serves with, and poison put in force on the served record
PRESSURES: dict[str, tuple[dict[str, Any], bool]] = {
    "plain": ({}, False),
    "rate limit, never empty": ({"rate_limit_rps": 1e9}, False),
    "rate limit, empty (429s)": ({"rate_limit_rps": 1e-9, "rate_limit_burst": 1}, False),
    "clock speed 60": ({"clock_speed": 60.0}, False),
    "poison on the record": ({}, True),
}


def world_build(sizes: list[int]) -> list[dict[str, Any]]:
    """Build time and peak memory per world size, each in a fresh interpreter."""
    figures = []
    for runs in sizes:
        done = subprocess.run([sys.executable, "-c", PROBE.format(runs=runs)],
                              capture_output=True, text=True, check=True)
        figures.append(json.loads(done.stdout))
    return figures


def asgi_rate(app: Any, path: str, query: str, seconds: float) -> float:
    """Requests per CPU second of one GET called on the ASGI app in a loop for `seconds` (no
    sockets; CPU time, because other work on a shared machine makes wall time swing by half)."""
    headers = [(b"authorization", f"Bearer {DEFAULT_KEY}".encode()), (b"host", b"sim")]
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "root_path": "",
             "path": API_PREFIX + path, "raw_path": (API_PREFIX + path).encode(), "query_string": query.encode(),
             "headers": headers, "server": ("sim", 80), "client": ("127.0.0.1", 1)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def loop() -> float:
        count, began, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - began < seconds:
            await app(dict(scope), receive, send)
            count += 1
        return count / (time.process_time() - cpu)

    return asyncio.run(loop())


def in_process(runs: int, seconds: float, rounds: int) -> dict[str, dict[str, float]]:
    """Best requests/s of the page and the trace under each pressure, over interleaved rounds."""
    targets = {name: _served_app(runs, options, poisoned) for name, (options, poisoned) in PRESSURES.items()}
    figures = {name: {"page": 0.0, "trace": 0.0} for name in PRESSURES}
    for _ in range(rounds):
        for name, (app, trace) in targets.items():
            best = figures[name]
            best["page"] = max(best["page"], asgi_rate(app, *PAGE, seconds))
            best["trace"] = max(best["trace"], asgi_rate(app, trace, "", seconds))
    return figures


def _served_app(runs: int, options: dict[str, Any], poisoned: bool) -> tuple[Any, str]:
    """An app under one pressure, and the trace path to ask (of the newest terminal run)."""
    app = create_app(SimOptions(runs=runs, **options))
    world = app.sim.world
    listed = world.runs.listed(RUNS_WINDOW)
    run = next(p for p in listed if not p.is_open(world.clock.now_ms))
    if poisoned:  # a record on the page and a span of the trace
        app.sim.poison.add(app.sim.poison.parse(world, [
            {"kind": "lone_surrogate", "record": "run", "id": listed[0].id},
            {"kind": "nul", "record": "span", "nth": 2, "parent": run.id, "field": "attributes"},
        ]))
    return app, f"/runs/{run.id}/trace"


def over_sockets(runs: int, seconds: float, rps: float) -> dict[str, dict[str, float]]:
    """Requests/s, 200s/s and the share of 429s with one keep-alive client, without and with a limit."""
    figures: dict[str, dict[str, float]] = {}
    with spawn(runs=runs) as sim, httpx.Client(base_url=sim.api_url, timeout=30,
                                              headers={"Authorization": f"Bearer {sim.api_key}"}) as client:
        truth = sim.control.truth()
        trace = f"/runs/{next(r['id'] for r in truth['runs'] if r['terminal'])}/trace"
        for name, limit in (("no limit", 0.0), (f"limit {rps:g} rps", rps)):
            for what, ask in (("page", lambda: client.get(PAGE[0], params=PAGE[1])),
                              ("trace", lambda: client.get(trace))):
                sim.control.reset(rate_limit_rps=limit)
                count, took = _loop(ask, seconds)
                limited = sim.control.truth()["rate_limit"]
                served = count - limited["limited"]
                figures[f"{what}, {name}"] = {"req/s": count / took, "200/s": served / took,
                                              "429 share": limited["limited"] / count}
    return figures


def _loop(ask: Callable[[], httpx.Response], seconds: float) -> tuple[int, float]:
    """(requests sent, seconds taken) asking in a loop for about `seconds`."""
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        ask()
        count += 1
    return count, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="2000,20000", help="world sizes to build")
    parser.add_argument("--serve-runs", type=int, default=3000, help="runs in the world served")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per serving figure")
    parser.add_argument("--rounds", type=int, default=3, help="in-process rounds; the best is shown")
    parser.add_argument("--rps", type=float, default=50.0, help="the rate limit over sockets")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    figures = world_build([int(n) for n in args.runs.split(",")])
    print("world build")
    for f in figures:
        print(f"  {f['runs']:>7} runs: {f['seconds']:6.2f} s, peak {f['peak_mib']:6.1f} MiB")
    if len(figures) > 1:
        first, last = figures[0], figures[-1]
        print(f"  ratio {last['runs'] // first['runs']}x runs: {last['seconds'] / first['seconds']:.1f}x time, "
              f"{last['peak_mib'] / first['peak_mib']:.2f}x peak memory")
    inside = in_process(args.serve_runs, args.seconds, args.rounds)
    plain = inside["plain"]
    print(f"serving in-process, {args.serve_runs} runs "
          f"(best of {args.rounds}, requests per CPU second, ratio to plain)")
    for name, rates in inside.items():
        print(f"  {name:<26} page {rates['page']:7.0f}/s {rates['page'] / plain['page']:5.2f}x   "
              f"trace {rates['trace']:7.0f}/s {rates['trace'] / plain['trace']:5.2f}x")
    print(f"serving over sockets, one keep-alive client, {args.serve_runs} runs")
    for name, f in over_sockets(args.serve_runs, args.seconds, args.rps).items():
        print(f"  {name:<26} {f['req/s']:7.0f} req/s, {f['200/s']:7.1f} served/s, {f['429 share']:6.1%} 429s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
