"""`armature-pipeline status` as a monitor sees it: exit 0 only when healthy, the ledger, gaps
and rejects read from the warehouse, nothing created, and a running load never disturbed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from armature_pipeline.output.durations import parse_duration
from armature_pipeline.settings import Settings
from armature_pipeline.status.gather import gather
from armature_source import RESOURCES
from tests.support.orgs import cli as org_cli
from tests.support.orgs import write_orgs
from tests.support.warehouse import REPO, Warehouse

WORLD = dict(seed=3, runs=40, sessions=30)
TIGHT = {"SOURCES__ARMATURE__RETRY_BUDGET_S": "2", "SOURCES__ARMATURE__MAX_ATTEMPTS": "2"}
LEDGER_COLUMNS = ("load_id", "resource", "status", "window_range", "pages", "rows_listed",
                  "rows_loaded", "rows_skipped", "rows_vanished", "rows_rejected", "requests",
                  "retries", "rate_limited", "message")


def _run(wh: Warehouse, sim: Any, *extra: str, env: dict[str, str | None] | None = None) -> Any:
    return wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, *extra, env=env)


def _status(wh: Warehouse, *extra: str, env: dict[str, str | None] | None = None) -> tuple[int, dict[str, Any]]:
    done = wh.cli("status", "--json", *extra, env=env)
    assert done.returncode in (0, 1), done.stderr
    (line,) = done.stdout.splitlines()
    return done.returncode, json.loads(line)


def test_a_pipeline_that_never_ran_says_so_exits_1_and_creates_nothing(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "project")
    shown = wh.cli("status")
    assert shown.returncode == 1
    assert f"pipeline {wh.name} has never run here" in shown.stdout
    assert str(wh.db_path) in shown.stdout
    assert sorted(p.name for p in wh.root.iterdir()) == [], "status created something"
    code, document = _status(wh)
    assert code == 1 and document["healthy"] is False and document["ran_here"] is False
    assert not wh.pipelines_dir.exists() and not wh.db_path.exists()


def test_a_healthy_pipeline_shows_the_ledger_of_its_last_load_per_resource(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    code, document = _status(wh, "--max-age", "1d")
    assert code == 0 and document["healthy"] and document["problems"] == []
    ((load_id,),) = wh.query("select load_id from _dlt_loads")
    expected = {r[1]: dict(zip(LEDGER_COLUMNS, r, strict=True)) for r in wh.query(
        f"select {', '.join(LEDGER_COLUMNS)} from load_ledger")}
    assert [r["resource"] for r in document["ledger"]] == list(RESOURCES)
    for row in document["ledger"]:
        assert {c: row[c] for c in LEDGER_COLUMNS} == expected[row["resource"]]
        assert row["load_id"] == load_id
    runs = next(r for r in document["ledger"] if r["resource"] == "runs")
    assert runs["rows_listed"] == len(sim.control.truth()["runs"])
    assert document["row_counts"]["runs"] == len(sim.control.truth()["runs"])
    assert document["last_run"]["exit_code"] == 0 and document["last_run"]["load_ids"] == [load_id]
    assert document["coverage_gaps"] == {"count": 0, "newest": []}
    assert document["rejected_records"] == {"count": 0, "by_table_and_reason": []}

    text = wh.cli("status")
    assert text.returncode == 0
    assert "healthy: the last successful load finished" in text.stdout
    assert f"  runs: ok, load {load_id} finished" in text.stdout
    assert f"rows {runs['rows_listed']} listed, {runs['rows_loaded']} loaded" in text.stdout


def test_a_load_older_than_max_age_is_stale_and_a_bad_max_age_exits_2(
    sim: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, "--resources", "organization").returncode == 0
    time.sleep(1.1)
    code, document = _status(wh, "--max-age", "1s")
    assert code == 1
    (problem,) = document["problems"]
    assert problem.startswith("the last successful load is ") and "older than --max-age (1 s)" in problem
    settings = Settings(destination=None, dataset="armature_data", pipeline_name=wh.name,
                        pipelines_dir=str(wh.pipelines_dir))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(wh.db_path))
    assert gather(settings, max_age_s=parse_duration("1h30m")).problems == []
    bad = wh.cli("status", "--max-age", "fortnight")
    assert bad.returncode == 2 and "--max-age" in bad.stderr and "'fortnight' is not a duration" in bad.stderr


def test_a_failed_last_run_is_unhealthy_until_a_run_succeeds(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    sim.control.advance(minutes=120)
    sim.control.set_faults([{"kind": "503", "path": "/runs/[^/]+/trace$"}])
    failed = _run(wh, sim, env=TIGHT)
    assert failed.returncode == 1
    code, document = _status(wh)
    assert code == 1
    assert document["last_run"]["exit_code"] == 1
    assert any(p.startswith("the last run failed") and "/trace kept failing" in p
               for p in document["problems"]), document["problems"]
    sim.control.clear_faults()
    assert _run(wh, sim).returncode == 0
    assert _status(wh)[0] == 0
    # the record of how runs ended lives in the pipelines folder: once that is lost, status says
    # it cannot know, and shows what the warehouse holds
    shutil.rmtree(wh.pipelines_dir)
    shown = wh.cli("status")
    assert "last run: no record of one in" in shown.stdout, shown.stdout
    assert shown.returncode == 0, shown.stdout


def test_a_destination_that_cannot_be_read_is_unhealthy_with_one_line_saying_why(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, "--resources", "organization").returncode == 0
    wh.db_path.write_bytes(b"not a database at all, but a file someone copied over it")
    shown = wh.cli("status")
    assert shown.returncode == 1
    (reason,) = [line for line in shown.stdout.splitlines() if "cannot be read" in line]
    assert f"{wh.db_path} is not a DuckDB database file" in reason

    wh.db_path.unlink()
    code, document = _status(wh)
    assert code == 1 and document["ran_here"] is True
    assert any("holds nothing of pipeline" in p and "no DuckDB file" in p for p in document["problems"])
    assert not wh.db_path.exists(), "status created the DuckDB file"


def test_gaps_come_from_the_table_newest_first_and_rejects_by_table_and_reason(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(seed=5, runs=60, sessions=400)
    sim.control.poison([{"kind": "string_number", "record": "tool_call", "nth": 1},
                        {"kind": "string_number", "record": "tool_call", "nth": 2}])
    wh = Warehouse(tmp_path)
    assert _run(wh, sim).returncode == 0
    code, document = _status(wh)
    assert code == 0, document["problems"]  # a gap or a reject is reported, not a failure
    gaps = wh.query("select message from coverage_gaps order by detected_at desc")
    assert document["coverage_gaps"]["count"] == len(gaps) >= 1
    assert [g["message"] for g in document["coverage_gaps"]["newest"]] == [m for (m,) in gaps]
    expected = wh.query("select table_name, reason, count(*) from rejected_records group by 1, 2")
    assert expected and all(table == "tool_calls" for table, _, _ in expected)
    groups = document["rejected_records"]["by_table_and_reason"]
    assert sorted((g["table_name"], g["reason"], g["records"]) for g in groups) == sorted(expected)
    text = wh.cli("status").stdout
    assert f"coverage gaps (coverage_gaps): {len(gaps)}, newest first:" in text
    assert gaps[0][0] in text
    table, reason, n = expected[0]
    assert f"  {table}: {reason}: {n} (newest " in text


def test_status_while_a_load_runs_never_makes_the_load_fail(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(seed=11, runs=200, sessions=30)
    sim.control.configure(latency_ms=10)
    wh = Warehouse(tmp_path)
    assert _run(wh, sim, "--resources", "organization").returncode == 0
    # the load keeps its default wait for the file: a snapshot taken just before it took its
    # lock may still hold the file for some milliseconds
    env = {**os.environ, "PYTHONPATH": str(REPO), "DESTINATION__DUCKDB__CREDENTIALS": str(wh.db_path)}
    env.pop("ARMATURE_DUCKDB_WAIT_S", None)
    load = subprocess.Popen(
        [sys.executable, "-m", "armature_pipeline.cli", "run", "--base-url", sim.api_url,
         "--api-key", sim.api_key, "--pipeline-name", wh.name, "--pipelines-dir", str(wh.pipelines_dir)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers: list[tuple[int, str]] = []
    while load.poll() is None and len(answers) < 200:
        shown = wh.cli("status", env={"ARMATURE_DUCKDB_WAIT_S": "0"})
        answers.append((shown.returncode, shown.stdout))
    out, err = load.communicate(timeout=300)
    assert load.returncode == 0, err
    assert wh.count("runs") == len(sim.control.truth()["runs"])
    # status reads the read copy: during the load it answers at once, healthy, from the copy
    # the first load published, and the load never waits for it
    assert answers, "no status ran while the load did"
    odd = [(i, code, text) for i, (code, text) in enumerate(answers) if code or "read copy: " not in text]
    assert not odd, f"{len(odd)} of {len(answers)} answers did not read the copy; the first: {odd[0]}"
    assert "waiting for the DuckDB file" not in err
    assert _status(wh)[0] == 0


def test_with_organizations_configured_status_covers_every_one(sim: Any, tmp_path: Path) -> None:
    sim.control.reset(**WORLD)
    write_orgs(tmp_path, {"acme": (sim.api_url, sim.api_key), "globex": (sim.api_url, sim.api_key)})
    assert org_cli(tmp_path, "run", "--org", "acme", "--resources", "organization").returncode == 0
    shown = org_cli(tmp_path, "status", "--json")
    assert shown.returncode == 1, shown.stderr
    document = json.loads(shown.stdout)
    by_org = {o["organization"]: o for o in document["organizations"]}
    assert set(by_org) == {"acme", "globex"} and document["healthy"] is False
    assert by_org["acme"]["healthy"] and by_org["acme"]["pipeline"] == "armature_acme"
    assert "never run here" in by_org["globex"]["problems"][0]
    one = org_cli(tmp_path, "status", "--org", "acme")
    assert one.returncode == 0 and "organization acme: pipeline armature_acme" in one.stdout
    assert not (tmp_path / "armature_globex.duckdb").exists()


@pytest.mark.postgres
def test_status_reads_a_postgres_warehouse_and_its_staging_copy_is_emptied(
    sim: Any, tmp_path: Path, postgres_url: str
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    env = {"DESTINATION__POSTGRES__CREDENTIALS": postgres_url}
    assert _run(wh, sim, "--destination", "postgres", env=env).returncode == 0
    code, document = _status(wh, env=env)  # the destination comes from the pipeline's state
    assert code == 0, document["problems"]
    assert document["destination"] == "postgres"
    assert document["row_counts"]["runs"] == len(sim.control.truth()["runs"])
    assert [r["resource"] for r in document["ledger"]] == list(RESOURCES)
    import psycopg2

    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute("select count(*) from armature_data_staging.runs")
        assert cur.fetchone() == (0,)
    down = _status(wh, env={"DESTINATION__POSTGRES__CREDENTIALS": "postgresql://nobody:x@127.0.0.1:9/none"})
    assert down[0] == 1
    assert any(p.startswith("the destination cannot be read: cannot read postgres") for p in down[1]["problems"])
