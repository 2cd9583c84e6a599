"""The HTTP layer alone: the adaptive client against the old fixed-8 throttle; prints figures.

    python bench/bench_client.py [--requests 2000] [--latency-ms 100] [--rate 50]

Three measurements, each printed with its ratio against the baseline:
1. decoding real simulator bodies: stdlib `json` vs orjson (and the client's whole decode
   with its repair check);
2. a batch of child requests (trace, tool calls) against the simulator with added latency:
   requests/s of the old client (bounded at 8 in flight) and of the adaptive one;
3. the same batch behind a token bucket of `--rate` requests/s: the simulator's own
   `--rate-limit-rps` when it has one, else the tests' token-bucket server; how much of the
   allowed rate each client used, and the share of requests answered 429.
Never fails for being slow; the machine's cores and load average are printed beside.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from armature_sim.server import spawn  # noqa: E402
from armature_sim.vocabulary import SimOptions  # noqa: E402
from armature_source.credentials import Connection  # noqa: E402
from armature_source.http.client import ArmatureClient  # noqa: E402
from armature_source.http.decoding import decode  # noqa: E402
from bench.fixed_baseline import FixedClient  # noqa: E402


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}"


def child_paths(api_url: str, key: str, wanted: int) -> list[str]:
    """Trace and tool-call paths of the simulator's runs, `wanted` of them."""
    paths: list[str] = []
    with ArmatureClient(Connection.checked(api_url, key)) as client:
        page = 1
        while len(paths) < wanted:
            rows = client.get("/runs", {"range": "30d", "pageSize": 100, "page": page})["rows"]
            if not rows:
                break
            for row in rows:
                paths += [client.path("runs", row["id"], "trace"), client.path("runs", row["id"], "tool-calls")]
            page += 1
    return paths[:wanted]


def timed(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def decode_figures(api_url: str, key: str, paths: list[str]) -> None:
    import httpx

    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}) as http:
        children = [http.get(p).content for p in paths[:600]]
        pages = [http.get("/runs", params={"range": "30d", "pageSize": 100, "page": n}).content
                 for n in range(1, 6)]
    print("decode: best of 7, simulator bodies joined into one array")
    for name, bodies in (("runs pages (many small fields)", pages), ("trace + tool-call bodies", children)):
        blob = b"[" + b",".join(bodies) + b"]"
        mb = len(blob) / 1e6
        stdlib = timed(lambda blob=blob: json.loads(blob), 7)
        fast = timed(lambda blob=blob: orjson.loads(blob), 7)
        whole = timed(lambda blob=blob: decode(blob), 7)
        print(f"  {name}, {mb:.1f} MB: json {mb / stdlib:5.0f} MB/s, orjson {mb / fast:5.0f} MB/s "
              f"({stdlib / fast:.1f}x), client decode with repair check {mb / whole:5.0f} MB/s "
              f"(check {whole / fast - 1:+.0%})")


def run_fixed(api_url: str, key: str, paths: list[str]) -> dict[str, float]:
    client = FixedClient(api_url, key, 8)
    started = time.monotonic()
    client.get_many(paths)
    took = time.monotonic() - started
    client.close()
    return {"seconds": took, "requests": client.requests, "limited": client.rate_limited}


def run_adaptive(api_url: str, key: str, paths: list[str]) -> dict[str, float]:
    with ArmatureClient(Connection.checked(api_url, key)) as client:
        started = time.monotonic()
        for _ in client.get_many((p, None) for p in paths):
            pass
        took = time.monotonic() - started
    return {"seconds": took, "requests": client.stats.requests, "limited": client.stats.rate_limited,
            "limit": client.limiter.limit, "lessons": len(client.pacer.lessons),
            "learned": client.pacer.learned or 0.0}


def show(name: str, n: int, figures: dict[str, float], rate: float | None = None,
         burst: float | None = None) -> None:
    share = figures["limited"] / max(1, figures["requests"])
    line = f"  {name:<14} {n / figures['seconds']:7.1f} req/s  {figures['seconds']:6.1f} s  429s {share:5.1%}"
    if rate:
        line += f"  {n / figures['seconds'] / rate:5.1%} of {rate:g}/s"
    if rate and burst is not None:  # what the bucket allowed over the run: its rate and its burst
        line += f", {n / (rate * figures['seconds'] + burst):5.1%} of what it allowed"
    if "limit" in figures:
        line += f"  (final limit {figures['limit']:.0f})"
    print(line)


def latency_figures(args: argparse.Namespace) -> None:
    with spawn(runs=args.requests, sessions=20, latency_ms=args.latency_ms) as sim:
        paths = child_paths(sim.api_url, sim.api_key, args.requests)
        decode_figures(sim.api_url, sim.api_key, paths)
        print(f"latency: {len(paths)} child requests, simulator with {args.latency_ms} ms added; {machine()}")
        fixed = run_fixed(sim.api_url, sim.api_key, paths)
        adaptive = run_adaptive(sim.api_url, sim.api_key, paths)
    show("fixed 8", len(paths), fixed)
    show("adaptive", len(paths), adaptive)
    print(f"  adaptive/fixed requests/s {fixed['seconds'] / adaptive['seconds']:.2f}")


def rate_figures(args: argparse.Namespace) -> None:
    n = args.rate_requests
    burst: float | None = None
    if "rate_limit_rps" in {f.name for f in dataclasses.fields(SimOptions)}:
        with spawn(runs=n, sessions=20, latency_ms=args.latency_ms, rate_limit_rps=args.rate) as sim:  # type: ignore[call-arg]
            paths = child_paths(sim.api_url, sim.api_key, n)
            where = "the simulator's --rate-limit-rps"
            time.sleep(2)  # let the bucket refill after listing
            print(f"rate limit: {len(paths)} requests, {where} {args.rate:g}, {args.latency_ms} ms; {machine()}")
            fixed = run_fixed(sim.api_url, sim.api_key, paths)
            time.sleep(2)
            adaptive = run_adaptive(sim.api_url, sim.api_key, paths)
    else:
        from tests.support.hostile_server import HostileServer, TokenBucket, json_body

        burst = args.rate
        with HostileServer() as server:
            for name in ("fixed", "adaptive"):
                bucket = TokenBucket(args.rate, args.rate, args.latency_ms / 1000, json_body({"rows": [{"id": "x"}]}))
                server.route(f"/{name}/", bucket)
            paths = [f"/runs/{i}/trace" for i in range(n)]
            key = "amt_bench_tokenbucket"
            print(f"rate limit: {n} requests, a token-bucket test server at {args.rate:g}/s (burst "
                  f"{args.rate:g}), {args.latency_ms} ms latency; {machine()}")
            fixed = run_fixed(server.api_url, key, [f"/fixed{p}" for p in paths])
            adaptive = run_adaptive(server.api_url, key, [f"/adaptive{p}" for p in paths])
    show("fixed 8", n, fixed, args.rate, burst)
    show("adaptive", n, adaptive, args.rate, burst)
    print(f"  adaptive learned {adaptive['learned']:.1f}/s in {adaptive['lessons']:.0f} lessons; "
          f"adaptive/fixed requests/s {fixed['seconds'] / adaptive['seconds']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="token bucket requests/s")
    parser.add_argument("--rate-requests", type=int, default=2000)
    parser.add_argument("--skip", default="", help="comma-separated: latency, rate")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    print(f"machine: {machine()}")
    if "latency" not in skip:
        latency_figures(args)
    if "rate" not in skip:
        rate_figures(args)
    print(f"machine after: {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
