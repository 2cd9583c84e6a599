"""Where a load's CPU goes: one case of bench_load under a sampling profiler, every thread.

    python bench/profile_load.py ours --runs 2000 --latency-ms 20 [--top 25] [--raw out.txt]

Starts the simulator, runs `load_child.py` for the case under py-spy (all threads, no idle
samples, native frames off), and prints the functions with the most samples: by self time
and inclusive of what they call, as shares of the case's CPU samples. Needs `py-spy`
(`pip install py-spy`); it profiles, it never times a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["ours", "floor", "baseline"])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", help="keep py-spy's collapsed stacks here")
    parser.add_argument("--gil", action="store_true",
                        help="only samples of the thread holding the GIL: Python's own CPU, no waiting threads")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    from armature_sim.server import spawn

    sim = spawn(seed=7, runs=args.runs, days=30, sessions=args.sessions, latency_ms=args.latency_ms)
    work = Path(tempfile.mkdtemp(prefix="armature-profile-"))
    raw = Path(args.raw) if args.raw else work / "stacks.txt"
    try:
        command = [py_spy, "record", "--format", "raw", "--rate", str(args.rate), "--threads",
                   *(["--gil"] if args.gil else []), "--output", str(raw), "--", sys.executable,
                   str(HERE / "load_child.py"), args.kind, "--api-url", sim.api_url, "--workdir", str(work), "--out",
                   str(work / "out.json"), "--max-in-flight", str(args.max_in_flight)]
        env = {**os.environ, "ARMATURE_API_KEY": sim.api_key, "RUNTIME__DLTHUB_TELEMETRY": "false",
               "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
        subprocess.run(command, env=env, cwd=work, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print((work / "out.json").read_text()[:300])
    finally:
        sim.stop()
    report(raw, args.top)
    if not args.raw:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(raw: Path, top: int) -> None:
    """Print the busiest functions by self and inclusive samples, and the busiest threads."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        threads[frames[0].split(" ")[0] if frames else "?"] += n
        own[_short(frames[-1])] += n
        for name in {_short(f) for f in frames[1:]}:
            inclusive[name] += n
    print(f"\n{total} samples; by thread: " + ", ".join(f"{t} {n / total:.0%}" for t, n in threads.most_common(5)))
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"\ntop {top} by {title} samples")
        for name, n in counter.most_common(top):
            print(f"  {n / total:6.1%}  {name}")


def _short(frame: str) -> str:
    """`fn (path/to/module.py:12)` as `fn (module.py)`: one entry per function."""
    name, _, where = frame.partition(" (")
    module = where.rsplit(":", 1)[0]
    parts = module.split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


if __name__ == "__main__":
    sys.exit(main())
