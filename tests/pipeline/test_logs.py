"""The command's logs as cron and a log collector see them: a time with its zone on every line,
one summary line in --quiet, JSON lines in --log-format json, each message once, waits and
dlt's repeated warnings said once."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from armature_analytics import held_file
from armature_analytics.held_file import waiting
from armature_pipeline.output import logs
from armature_source.tables import ALL_TABLES
from tests.support.warehouse import REPO, Warehouse

# a world whose first load finds no coverage gap (fewer sessions than one list serves)
QUIET_WORLD = dict(seed=3, runs=80, sessions=60)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
HEALTH = {"coverage_gaps", "rejected_records", "load_ledger"}


def _run(wh: Warehouse, sim: Any, *extra: str, env: dict[str, str | None] | None = None) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, *extra, env=env)


def _data_rows(wh: Warehouse) -> dict[str, int]:
    return {t.name: n for t in ALL_TABLES if t.name not in HEALTH and (n := wh.count(t.name))}


def test_a_quiet_successful_run_prints_exactly_one_line_with_what_loaded_and_the_seconds(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**QUIET_WORLD)
    wh = Warehouse(tmp_path)
    done = _run(wh, sim, "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    rows = _data_rows(wh)
    assert rows["runs"] == len(sim.control.truth()["runs"])
    found = re.fullmatch(
        rf"({STAMP}) INFO    \[{wh.name}\] {wh.name}: loaded (\d+) new or changed rows into armature_data "
        rf"\(duckdb file {re.escape(str(wh.db_path))}\) in (\d+\.\d) s: (.+); 0 coverage gaps, "
        r"0 rejected records; load (\d+\.\d+)", line)
    assert found, line
    assert int(found[2]) == sum(rows.values())
    assert found[4] == ", ".join(f"{name} {n}" for name, n in sorted(rows.items()))
    assert 0 < float(found[3]) < 300
    assert wh.query("select load_id from _dlt_loads") == [(found[5],)]


def test_json_logs_are_one_object_per_line_on_both_streams_with_structured_extras(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**QUIET_WORLD)
    wh = Warehouse(tmp_path)
    done = _run(wh, sim, "--log-format", "json")
    assert done.returncode == 0, done.stderr
    errors = [json.loads(line) for line in done.stderr.splitlines()]
    report = [json.loads(line) for line in done.stdout.splitlines()]
    for entry in errors + report:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
        assert re.fullmatch(STAMP, entry["time"])
    assert any(e["logger"] == "armature_source" and e["message"].startswith("runs: done")
               for e in errors)
    rows = _data_rows(wh)
    tables = {e["table"]: e["rows"] for e in report if "table" in e}
    assert tables == rows
    summary = report[-1]
    assert summary["rows"] == sum(rows.values()) and summary["tables"] == rows
    assert summary["coverage_gaps"] == 0 and summary["rejected"] == 0 and summary["seconds"] > 0


def test_a_failed_load_prints_its_error_once_and_in_json_as_json(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**QUIET_WORLD)
    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$"}])
    tight = {"SOURCES__ARMATURE__RETRY_BUDGET_S": "2", "SOURCES__ARMATURE__MAX_ATTEMPTS": "2"}
    wh = Warehouse(tmp_path)
    failed = _run(wh, sim, "--quiet", env=tight)
    assert failed.returncode == 1
    assert failed.stdout == ""
    errors = [line for line in failed.stderr.splitlines() if " ERROR   " in line]
    assert len(errors) == 1 and "/trace kept failing" in errors[0], failed.stderr
    assert failed.stderr.count("/trace kept failing") == 1
    assert all(re.match(rf"{STAMP} (WARNING|ERROR)", line) for line in failed.stderr.splitlines())

    as_json = _run(wh, sim, "--quiet", "--log-format", "json", env=tight)
    assert as_json.returncode == 1
    entries = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert [e["level"] for e in entries].count("ERROR") == 1


def test_bad_usage_in_json_mode_is_one_json_error_naming_the_flag(tmp_path: Path) -> None:
    done = Warehouse(tmp_path).cli("status", "--max-age", "soon", "--log-format", "json")
    assert done.returncode == 2
    (entry,) = [json.loads(line) for line in done.stderr.splitlines()]
    assert entry["level"] == "ERROR" and "--max-age" in entry["message"] and "30m" in entry["message"]


def test_dlts_repeated_warnings_are_folded_into_the_first_and_one_count(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**QUIET_WORLD)
    wh = Warehouse(tmp_path)
    env = {"DESTINATION__FILESYSTEM__BUCKET_URL": str(tmp_path / "lake")}
    done = _run(wh, sim, "--destination", "filesystem", env=env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "Falling back to `append`" in line]
    assert len(lines) == 2, done.stderr
    first, folded = lines
    merged = {t.name for t in ALL_TABLES if t.disposition == "merge"}
    found = re.fullmatch(rf"{STAMP} WARNING \[{wh.name}\] Falling back to `append` on `(\w+)`\.", first)
    assert found and found[1] in merged, first
    message = re.escape(first.split("] ", 1)[1])
    more = re.fullmatch(rf"{STAMP} WARNING (?:\[{wh.name}\] )?\.\.\.and (\d+) more like it \({message}\)", folded)
    assert more and int(more[1]) + 1 >= len(merged), folded  # each merged table warned, at least once


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """Logging as it was before the test set it up in this process."""
    root, dlt_logger = logging.getLogger(), logging.getLogger("dlt")
    saved = (root.handlers[:], root.level, dlt_logger.handlers[:], dlt_logger.propagate)
    yield
    root.handlers[:], dlt_logger.handlers[:], dlt_logger.propagate = saved[0], saved[2], saved[3]
    root.setLevel(saved[1])
    logging.captureWarnings(False)
    for name in logs.OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_setting_up_twice_adds_no_handler_and_each_message_prints_once(
    fresh_logging: None, capsys: Any
) -> None:
    logs.setup()
    logs.setup()
    logging.getLogger("armature_pipeline").info("once")
    logging.getLogger("dlt").warning("dlt once")
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1] for line in err] == ["INFO    once", "WARNING dlt once"]


def test_a_fold_counts_messages_that_differ_only_in_names_and_numbers(
    fresh_logging: None, capsys: Any
) -> None:
    logs.setup(quiet=True)
    dlt_logger = logging.getLogger("dlt")
    for i in range(48):
        dlt_logger.warning("Falling back to `append` on `table_%d`.", i)
    dlt_logger.warning("something else")
    logs.finish()
    err = [line.split(" ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert err == ["WARNING Falling back to `append` on `table_0`.", "WARNING something else",
                   "WARNING ...and 47 more like it (Falling back to `append` on `table_0`.)"]


def test_waiting_is_said_at_most_every_ten_seconds_with_how_long_and_until_when(
    monkeypatch: Any, caplog: Any
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(held_file.time, "monotonic", lambda: clock[0])
    deadline = clock[0] + 30
    with caplog.at_level(logging.INFO, logger="armature_pipeline"):
        for _ in range(26):
            waiting(logging.getLogger("armature_pipeline"), "the DuckDB file", deadline, "held by 7")
            clock[0] += 1
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3
    assert re.fullmatch(r"waiting for the DuckDB file, at most 30 s \(until \S+\): held by 7", said[0])
    assert re.fullmatch(r"still waiting for the DuckDB file: 10 s so far, until \S+", said[1])
    assert said[2].startswith("still waiting for the DuckDB file: 20 s so far")


def test_a_load_waiting_for_a_held_file_says_so_once_then_loads(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**QUIET_WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, "--resources", "organization").returncode == 0
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, os, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('holding', flush=True)\nwhile not os.path.exists(sys.argv[2]): time.sleep(0.05)",
         str(wh.db_path), str(release)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        loading = wh.start("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                           "--resources", "organization", env={"ARMATURE_DUCKDB_WAIT_S": "120"})
        assert loading.stderr is not None
        said = []
        for line in loading.stderr:  # held until the load says it waits: however slow it starts
            said.append(line)
            if "waiting for the DuckDB file" in line:
                break
        released = time.monotonic()
        release.touch()
        out, rest = loading.communicate(timeout=300)
    finally:
        release.touch()
        holder.wait(timeout=30)
    assert loading.returncode == 0, "".join(said) + rest
    waits = [line for line in [*said, *rest.splitlines()] if "waiting for the DuckDB file" in line]
    assert len(waits) == 1 and "at most 120 s (until " in waits[0], "".join(said) + rest
    assert f", PID {holder.pid})" in waits[0], waits[0]
    assert time.monotonic() - released < 120, "the load goes on once the file is let go"


def test_every_line_of_a_load_names_its_pipeline_organization_and_resource_in_json_and_text(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**QUIET_WORLD)
    # two 503s on a trace: retry lines logged on the client's own event-loop thread
    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$", "times": 2}])
    wh = Warehouse(tmp_path)
    done = _run(wh, sim, "--log-format", "json", env={"SOURCES__ARMATURE__RETRY_BUDGET_S": "60"})
    assert done.returncode == 0, done.stderr
    slug = sim.control.truth()["organization"]["slug"]
    entries = [json.loads(line) for line in done.stderr.splitlines() + done.stdout.splitlines()]
    assert entries and all(e.get("pipeline") == wh.name for e in entries), \
        [e for e in entries if e.get("pipeline") != wh.name]
    # the organization is known from GET /org on: every line but the pipeline's own first ones
    assert sum(e.get("organization") == slug for e in entries) >= len(entries) - 3
    by_resource = {e["message"].split(":", 1)[0]: e.get("resource") for e in entries
                   if e["logger"] == "armature_source" and not e["message"].startswith("GET ")}
    assert by_resource["runs"] == "runs" and by_resource["sessions"] == "sessions", by_resource
    done = next(e for e in entries if e["message"].startswith("runs: done"))
    run_tables = ("runs", "trace_spans", "tool_calls", "evaluations", "evaluation_criteria")
    assert done["rows"] == sum(e["rows"] for e in entries if e.get("table") in run_tables) > 0, done
    assert done["listed"] == len(sim.control.truth()["runs"])
    retries = [e for e in entries if re.match(r"GET /runs/[^/]+/trace: .*retry", e["message"])]
    assert len(retries) == 2 and all(e["resource"] == "runs" for e in retries), retries

    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$", "times": 1}])
    sim.control.advance(minutes=30)
    text = _run(wh, sim)
    assert text.returncode == 0, text.stderr
    lines = text.stderr.splitlines() + text.stdout.splitlines()
    assert all(re.match(rf"{STAMP} \w+ +\[{wh.name}( \w+)?\] ", line) for line in lines), lines
    assert any(re.match(rf"{STAMP} INFO    \[{wh.name} runs\] GET /runs/[^/]+/trace: .*retry", line)
               for line in lines), lines


def _cron_line(project: Path) -> str:
    """The README's cron line for loads, as cron runs it in `project` (without the schedule)."""
    readme = (REPO / "README.md").read_text()
    (line,) = [x for x in readme.splitlines() if x.startswith("*/15 ") and " run " in x]
    return line.split(None, 5)[5].replace("cd /srv/armature", f"cd {project}")


def test_the_readme_cron_line_keeps_a_failure_in_the_log_and_mails_it(sim: Any, tmp_path: Path) -> None:
    project = tmp_path / "srv"
    project.mkdir()
    (project / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {**os.environ, "ARMATURE_BASE_URL": sim.api_url, "ARMATURE_API_KEY": sim.api_key,
           "DLT_DATA_DIR": str(tmp_path / "dlt"), "SOURCES__ARMATURE__RETRY_BUDGET_S": "2",
           "SOURCES__ARMATURE__MAX_ATTEMPTS": "2",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("DESTINATION__DUCKDB__CREDENTIALS", None)
    sim.control.reset(**QUIET_WORLD)

    def cron() -> subprocess.CompletedProcess[str]:  # cron mails whatever the line prints
        return subprocess.run(["sh", "-c", _cron_line(project)], env=env, capture_output=True,
                              text=True, timeout=300)

    night = cron()
    log = (project / "armature.log").read_text()
    assert night.stdout == night.stderr == "", "a good night mails nothing"
    (loaded,) = log.splitlines()
    assert re.match(rf"{STAMP} INFO    \[armature\] armature: loaded \d+ new or changed rows", loaded)

    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$"}])
    sim.control.advance(minutes=30)
    failed = cron()
    mailed = failed.stdout.splitlines()
    logged = (project / "armature.log").read_text().splitlines()[1:]
    assert mailed and mailed == logged, (mailed, logged)
    (error,) = [line for line in logged if " ERROR " in line]
    assert re.match(rf"{STAMP} ERROR   \[armature\] .*/trace kept failing", error), error
    assert all(re.match(rf"{STAMP} (WARNING|ERROR) +\[armature( \w+)?\] ", line) for line in logged)
    assert sim.api_key not in "\n".join(logged)


def test_a_traceback_in_the_text_of_a_dlt_line_is_cut_to_its_last_line_and_folded_whole(
    fresh_logging: None, capsys: Any
) -> None:
    # found by the simulation tester (seed 10041: a full disk at the load step): dlt logs each
    # retried load job with the job's traceback in the line's text
    logs.setup()
    trace = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in run\n    commit()\n"
             "_duckdb.TransactionException: Could not write file \"w.duckdb.wal\": File too large\n")
    for attempt in (1, 2, 3):
        logging.getLogger("dlt").warning("Job for topics.%d.sql retried in load 17 with message %s",
                                         attempt, trace)
    logs.finish()
    err = [line.split(" ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    last = '_duckdb.TransactionException: Could not write file "w.duckdb.wal": File too large'
    assert err == [f"WARNING Job for topics.1.sql retried in load 17 with message {last}",
                   f"WARNING ...and 2 more like it (Job for topics.1.sql retried in load 17 with message {last})"]
