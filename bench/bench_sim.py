"""How fast the simulator builds its world and how much memory that takes; prints figures.

    python bench/bench_sim.py [--runs 2000,20000]

Each size is built in a fresh interpreter; peak memory is that interpreter's VmHWM (which,
unlike ru_maxrss, does not inherit the parent's peak across fork and exec).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default="2000,20000")
    sizes = [int(n) for n in parser.parse_args().runs.split(",")]
    figures = []
    for runs in sizes:
        done = subprocess.run([sys.executable, "-c", PROBE.format(runs=runs)],
                              capture_output=True, text=True, check=True)
        figures.append(json.loads(done.stdout))
    print(f"simulator world build, {os.cpu_count()} cores")
    for f in figures:
        print(f"  {f['runs']:>7} runs: {f['seconds']:6.2f} s, peak {f['peak_mib']:6.1f} MiB")
    if len(figures) > 1:
        first, last = figures[0], figures[-1]
        print(f"  ratio {last['runs'] // first['runs']}x runs: "
              f"{last['seconds'] / first['seconds']:.1f}x time, "
              f"{last['peak_mib'] / first['peak_mib']:.2f}x peak memory")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
