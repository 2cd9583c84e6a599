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

from tests.support.warehouse import REPO

ROOT = REPO
SCRIPT = ROOT / "bench" / "bench_load.py"
CASES = ("ours", "before", "baseline", "floor", "incremental", "ours-slow", "floor-slow", "fixed-slow",
         "ours-limited", "nochange", "bare-nochange", "help", "dlt-help")
# whole commands: only the no-change run asks the host anything, and none loads a row
COMMANDS = ("nochange", "bare-nochange", "help", "dlt-help")
COLUMNS = ("case", "runs", "lat ms", "rps cap", "in fl", "wall s", "requests", "req/s", "429s", "rows",
           "peak RSS MB", "cpu s", "http cpu", "sim cpu s", "load avg")
RATIOS = ("baseline/ours wall @20 runs", "baseline/ours peak RSS @20 runs", "ours/floor wall @20 runs",
          "ours/floor cpu @20 runs", "ours cpu s per 1000 runs", "floor cpu s per 1000 runs",
          "ours cpu ms per request", "floor cpu ms per request", "ours http-thread cpu ms per request",
          "incremental/backfill wall @20 runs", "fixed-8/ours wall @100 ms, 20 runs",
          "ours-limited share of allowed rate used", "ours-limited share of requests answered 429",
          "read copy publish/backfill wall @20 runs", "before cpu s per 1000 runs",
          "ours/before cpu per 1000 runs @20 runs", "ours/floor wall @100 ms, 20 runs",
          "no-change load/bare dlt pipeline wall", "run --help/dlt --help wall")
NUMBER = r"\d+(?:\.\d+)?"
FIGURE = rf"(?:{NUMBER}|n/a|-)"


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_quick_benchmark_prints_every_figure_and_ratio(tmp_path: Path) -> None:
    target = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--runs", "20", "--sessions", "20",
         "--latency-ms", "0", "--wait-load", "0", "--json", str(target)],
        capture_output=True, text=True, timeout=390, cwd=tmp_path,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}"
    assert "FAILED" not in out, out
    header = next(line for line in out.splitlines() if line.startswith("case "))
    for column in COLUMNS:
        assert column in header
    for case in CASES:
        row = re.search(rf"^{case}\s+20((?:\s+{FIGURE}){{12}})\s+{NUMBER}-{NUMBER}$", out, re.M)
        assert row, f"no full row of figures for {case}:\n{out}"
    for ratio in RATIOS:
        assert re.search(rf"^\s+{re.escape(ratio)}\s+{NUMBER}$", out, re.M), f"{ratio}:\n{out}"
    assert re.search(r"^  ours\s+20 runs: publish \d+\.\d+ s, copy \d+\.\d MB, warehouse \d+\.\d MB", out, re.M), out
    assert "issue 24's targets" in out
    for name, (value, bound, _met) in json.loads(target.read_text())["targets"].items():
        shown = "n/a" if value is None else f"{value:8.2f}".strip()
        assert re.search(rf"^\s+{re.escape(name)}\s+{re.escape(shown)} {re.escape(bound)}", out, re.M), name
    assert re.search(r"^machine: \d+ cores, .+", out, re.M), out
    assert re.search(r"^busiest 1-minute load average .+: \d+\.\d on \d+ cores", out, re.M), out

    report = json.loads(target.read_text())
    assert [case["case"] for case in report["cases"]] == list(CASES)
    assert all(case["ok"] for case in report["cases"])
    assert all(case["requests"] > 0 for case in report["cases"] if case["case"] not in COMMANDS[1:])
    assert all(len(case["load_average"]) == 2 for case in report["cases"])
    # a second load of an unchanged world may rightly load nothing
    assert all(case["rows"] > 0 for case in report["cases"] if case["case"] not in ("incremental", *COMMANDS))
    assert len(report["ratios"]) == len(RATIOS)
    assert report["machine"]["cores"] >= 1
