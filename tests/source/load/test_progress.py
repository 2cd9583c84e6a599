"""A long backfill shows it is moving: a log line every 10 seconds (not every 10 pages), and on a
terminal a bar of the runs listed out of the host's total and of the runs loaded with children."""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

from armature_source.load import progress
from armature_source.load.progress import Progress, Step, watching
from armature_source.vocabulary import OPEN_STATUSES
from tests.support.warehouse import REPO, Warehouse

WORLD = dict(seed=3, runs=301, sessions=60)
LINE = re.compile(r"runs: (\d+) of (\d+) runs listed(?:, (\d+) finished runs loaded with children)?, "
                  r"(\d+) requests answered \((\d+) s so far\)")


def test_progress_is_logged_by_the_clock_at_most_every_ten_seconds(caplog: Any) -> None:
    clock = [0.0]
    counter = Progress("runs", clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="armature_source.load.progress"):
        for _ in range(30):  # a page every 1.5 s
            clock[0] += 1.5
            counter.add("runs listed", 100, total=3000)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["runs: 700 of 3000 runs listed (10 s so far)",
                     "runs: 1400 of 3000 runs listed (21 s so far)",
                     "runs: 2100 of 3000 runs listed (32 s so far)",
                     "runs: 2800 of 3000 runs listed (42 s so far)"]
    assert caplog.records[0].progress == {"runs listed": {"done": 700, "total": 3000}}  # type: ignore[attr-defined]


def test_watchers_see_every_step_and_the_end_while_they_watch() -> None:
    seen: list[Step] = []
    counter = Progress("runs")
    with watching(seen.append):
        counter.add("pages listed")
        counter.add("pages listed")
        counter.close()
    counter.add("pages listed")
    assert seen == [Step("runs", "pages listed", 1), Step("runs", "pages listed", 2),
                    Step("runs", "pages listed", 2, finished=True)]


def test_a_watched_client_counts_every_answer_and_notes_the_total_a_list_body_carries() -> None:
    class Client:
        stats = None
        bodies = iter([{"rows": [], "total": 301}, [], {"rows": [], "total_count": 7}])

        def get(self, path: str, params: Any = None, *, missing_ok: bool = False) -> Any:
            return next(self.bodies)

        def get_many(self, requests: Any, *, failed_ok: bool = False) -> Any:
            return iter([{"spans": []} for _ in requests])

    counter = Progress("runs")
    client = counter.watch(Client())  # type: ignore[arg-type]
    client.get("/runs")
    assert client.total == 301
    client.get("/runs")
    assert client.total == 301
    client.get("/runs")
    assert client.total == 7
    assert len(list(client.get_many([("/runs/a/trace", None), ("/runs/b/trace", None)]))) == 2
    assert counter.requests == 5 and counter.describe() == "5 requests answered"


def test_a_backfill_logs_its_progress_against_the_hosts_total(
    sim: Any, tmp_path: Path, caplog: Any, monkeypatch: Any
) -> None:
    sim.control.reset(**WORLD)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)  # a line at every page, to read them all
    with caplog.at_level(logging.INFO, logger="armature_source.load.progress"):
        wh = Warehouse(tmp_path)
        wh.load(sim, resources=["runs"])
    truth = sim.control.truth()["runs"]
    said = [r.getMessage() for r in caplog.records if "runs listed" in r.getMessage()]
    found = [LINE.fullmatch(line) for line in said]
    assert found and all(found), said
    listed = [int(m[1]) for m in found if m]
    assert {int(m[2]) for m in found if m} == {len(truth)}
    assert listed == sorted(listed) and listed[-1] == len(truth)
    finished = sum(1 for r in truth if r["status"] not in OPEN_STATUSES)
    assert max(int(m[3] or 0) for m in found if m) == finished
    answered = [int(m[4]) for m in found if m]
    assert answered == sorted(answered)
    ((requests,),) = wh.query("select requests from load_ledger where resource = 'runs'")
    assert answered[-1] <= requests


def test_on_a_terminal_the_backfill_draws_bars_and_leaves_the_log_lines_whole(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    sim.control.configure(latency_ms=5)
    wh = Warehouse(tmp_path)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # 40 x 160
    env = {**os.environ, "PYTHONPATH": str(REPO), "DESTINATION__DUCKDB__CREDENTIALS": str(wh.db_path)}
    done = subprocess.Popen(
        [sys.executable, "-m", "armature_pipeline.cli", "run", "--base-url", sim.api_url,
         "--api-key", sim.api_key, "--pipeline-name", wh.name, "--pipelines-dir", str(wh.pipelines_dir)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    screen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        try:
            chunk = os.read(primary, 65536) if ready else b""
        except OSError:  # the command closed its end
            chunk = b""
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    assert done.wait(timeout=120) == 0, screen.decode(errors="replace")[-3000:]
    text = screen.decode(errors="replace")
    total = len(sim.control.truth()["runs"])
    assert "runs: runs listed" in text and f"/{total} " in text, text[-3000:]
    assert "runs: finished runs loaded with children" in text
    # each log line whole, from its time to its end, whatever the bars drew before it
    assert re.search(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d INFO    \[\w+ runs\] runs: done, \d+ pages, "
                     r"\d+ listed, [^\r\n\x1b]+ skipped\r\n", text), "a log line was cut by a bar"
    assert not LINE.search(text), "the every-10-seconds lines say what the bars show"
