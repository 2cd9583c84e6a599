"""One benchmark case, run in a fresh process so that its peak RSS is its own.

    ARMATURE_API_KEY=... python bench/load_child.py ours|fixed|baseline|floor --api-url URL \
        --workdir DIR --out result.json [--pipeline-name NAME] [--max-in-flight 8]

Writes a JSON object to --out: `wall_s` (the load alone, after imports), dlt's step times
(extract, normalize, load) for the two pipelines, and the records parsed for the floor.
The key comes from ARMATURE_API_KEY (the local simulator's), so it stays off the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from armature_pipeline.settings import DEFAULT_DATASET as DATASET  # noqa: E402


def main() -> int:
    args = parse_args()
    args.api_key = os.environ["ARMATURE_API_KEY"]
    out = Path(args.out)
    result: dict[str, Any] = {"kind": args.kind}
    try:
        result.update(RUNNERS[args.kind](args))
        result["ok"] = True
    except Exception as exc:  # the parent prints the failure; the benchmark goes on
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    out.write_text(json.dumps(result, default=str))
    return 0 if result["ok"] else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(RUNNERS))
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pipeline-name", default="bench")
    parser.add_argument("--max-in-flight", type=int, default=8)
    return parser.parse_args()


def watch_clients() -> list[dict[str, Any]]:
    """What each ArmatureClient of this process did, read just before it closes: the CPU
    of its event loop's thread (the HTTP work alone), its requests, the in-flight limit."""
    from armature_source.http.client import ArmatureClient

    seen: list[dict[str, Any]] = []
    close = ArmatureClient.close

    async def thread_cpu() -> float:
        return time.thread_time()

    def closing(self: ArmatureClient) -> None:
        if not any(entry["id"] == id(self) for entry in seen):
            try:
                cpu = self._loop.submit(thread_cpu()).result(5)
            except Exception:  # a loop never started or already closed
                cpu = 0.0
            history = self.limiter.history
            seen.append({"id": id(self), "loop_cpu_s": cpu, "requests": self.stats.requests,
                         "rate_limited": self.stats.rate_limited,
                         "limit_max": max(limit for _, limit in history),
                         "limit_final": self.limiter.limit, "limit_changes": len(history),
                         "paced_at": self.pacer.learned})
        close(self)

    ArmatureClient.close = closing  # type: ignore[method-assign]
    return seen


def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from armature_source import armature_source

    clients = watch_clients()

    def make() -> Any:
        return armature_source(
            base_url=args.api_url, api_key=args.api_key, max_in_flight=args.max_in_flight
        )

    result = run_pipeline(args, make)
    result["source_file"] = sys.modules["armature_source"].__file__
    result["clients"] = clients
    return result


def run_fixed(args: argparse.Namespace) -> dict[str, Any]:
    """Ours with the in-flight limit pinned at --max-in-flight: no slow start, no shrinking,
    no growth (the client as it was before the limit adapted)."""
    from armature_source.http import client, limiter

    pinned = args.max_in_flight

    class Pinned(limiter.Limiter):
        def __init__(self, max_limit: int, initial: int = pinned) -> None:
            super().__init__(pinned, initial=pinned)

        def _set(self, value: float) -> None:
            pass

    client.Limiter = Pinned  # type: ignore[misc]
    return run_ours(args)


def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    import rest_api_baseline

    return run_pipeline(args, lambda: rest_api_baseline.source(args.api_url, args.api_key))


def run_pipeline(args: argparse.Namespace, make_source: Any) -> dict[str, Any]:
    """Time one `pipeline.run` into DuckDB under the work folder."""
    import dlt

    from armature_pipeline.warehouse.destination import duckdb_at

    workdir = Path(args.workdir)
    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name=args.pipeline_name,
        # the command line's DuckDB settings (memory cap included), for ours and the baseline
        destination=duckdb_at(str(workdir / "warehouse.duckdb"), DATASET),
        dataset_name=DATASET,
        pipelines_dir=str(workdir / "pipelines"),
    )
    info = pipeline.run(make_source())
    wall = time.perf_counter() - started
    normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    return {
        "wall_s": wall,
        "steps": step_times(pipeline),
        "load_ids": list(info.loads_ids),
        "normalized_rows": dict(normalized.row_counts) if normalized else {},
    }


def step_times(pipeline: Any) -> dict[str, float]:
    """Seconds spent in each of dlt's steps of the last run (extract, normalize, load)."""
    times: dict[str, float] = {}
    trace = pipeline.last_trace
    for step in trace.steps if trace else []:
        if step.started_at and step.finished_at:
            seconds = (step.finished_at - step.started_at).total_seconds()
            times[step.step] = times.get(step.step, 0.0) + seconds
    return times


def run_floor(args: argparse.Namespace) -> dict[str, Any]:
    from http_floor import Floor

    started = time.perf_counter()
    floor = Floor(args.api_url, args.api_key, args.max_in_flight)
    rows = floor.run()
    wall = time.perf_counter() - started
    return {"wall_s": wall, "rows_parsed": dict(rows), "requests_sent": floor.requests}


RUNNERS = {"ours": run_ours, "fixed": run_fixed, "baseline": run_baseline, "floor": run_floor}

if __name__ == "__main__":
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    sys.exit(main())
