"""The benchmark runs end to end on a tiny world and prints every figure and ratio.

No timing is asserted: a benchmark never fails for being slow.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "bench_load.py"
CASES = ("ours", "baseline", "floor", "incremental")
COLUMNS = ("case", "runs", "wall s", "requests", "req/s", "rows", "rows/s", "peak RSS MB", "cpu s")
RATIOS = ("baseline/ours wall", "baseline/ours peak RSS", "ours/floor wall", "incremental/backfill wall")
NUMBER = r"\d+(?:\.\d+)?"


@pytest.mark.timeout(120)
def test_quick_benchmark_prints_every_figure_and_ratio(tmp_path: Path) -> None:
    target = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--runs", "20", "--sessions", "20",
         "--latency-ms", "0", "--json", str(target)],
        capture_output=True, text=True, timeout=110, cwd=tmp_path,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}"
    assert "FAILED" not in out, out
    header = next(line for line in out.splitlines() if line.startswith("case "))
    for column in COLUMNS:
        assert column in header
    for case in CASES:
        row = re.search(rf"^{case}\s+20((?:\s+{NUMBER}){{7}})\s+(?:{NUMBER}|n/a)$", out, re.M)
        assert row, f"no full row of figures for {case}:\n{out}"
    for ratio in RATIOS:
        assert re.search(rf"^\s+{re.escape(ratio)} @20 runs\s+{NUMBER}$", out, re.M), f"{ratio}:\n{out}"
    assert re.search(r"^machine: \d+ cores, .+", out, re.M), out

    report = json.loads(target.read_text())
    assert [case["case"] for case in report["cases"]] == list(CASES)
    assert all(case["ok"] and case["requests"] > 0 for case in report["cases"])
    # a second load of an unchanged world may rightly load nothing
    assert all(case["rows"] > 0 for case in report["cases"] if case["case"] != "incremental")
    assert len(report["ratios"]) == len(RATIOS)
    assert report["machine"]["cores"] >= 1
