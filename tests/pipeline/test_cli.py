"""The armature-pipeline command as a scheduler sees it: output and exit codes."""

from __future__ import annotations

import copy
from typing import Any

import duckdb
import httpx
from filelock import FileLock

from armature_source.contract.check import compare
from tests.support.warehouse import Warehouse


def test_run_loads_and_prints_what_landed(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(seed=3, runs=80, sessions=120)
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 0, done.stderr
    assert "runs" in done.stdout and "trace_spans" in done.stdout
    assert wh.ids("runs") == {r["id"] for r in sim.control.truth()["runs"]}


def test_environment_configures_the_run_and_flags_win(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(seed=3, runs=40, sessions=60)
    wh = Warehouse(tmp_path)
    env = {"ARMATURE_BASE_URL": sim.api_url, "ARMATURE_API_KEY": "amt_wrong_key"}
    rejected = wh.cli("run", env=env)
    assert rejected.returncode == 2
    done = wh.cli("run", "--api-key", sim.api_key, env=env)
    assert done.returncode == 0, done.stderr


def test_dashboard_url_and_rest_base_mean_the_same_host(sim: Any, tmp_path: Any) -> None:
    sim.control.reset(seed=3, runs=40, sessions=60)
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.base_url + "/", "--api-key", sim.api_key,
                  "--resources", "organization")
    assert done.returncode == 0, done.stderr
    assert wh.ids("organization") == {sim.control.truth()["organization"]["id"]}


def test_missing_key_exits_2_naming_where_to_set_it(sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, env={"ARMATURE_API_KEY": ""})
    assert done.returncode == 2
    assert "ARMATURE_API_KEY" in done.stderr
    assert not wh.db_path.exists()


def test_malformed_and_rejected_keys_exit_2(sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    malformed = wh.cli("run", "--base-url", sim.api_url, "--api-key", "not-a-key")
    assert malformed.returncode == 2 and "malformed" in malformed.stderr
    rejected = wh.cli("run", "--base-url", sim.api_url, "--api-key", "amt_nokey_nosecret")
    assert rejected.returncode == 2 and "rejected" in rejected.stderr
    assert not wh.db_path.exists()


def test_unknown_resource_exits_2_listing_the_valid_ones(sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                  "--resources", "runs,bogus")
    assert done.returncode == 2
    assert "bogus" in done.stderr and "mcp_servers" in done.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", "http://armature.example.com", "--api-key", "amt_a_b")
    assert done.returncode == 2 and "plain http" in done.stderr


def test_unreachable_host_exits_2(tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    done = wh.cli("run", "--base-url", "http://127.0.0.1:9", "--api-key", "amt_a_b")
    assert done.returncode == 2 and "Cannot reach" in done.stderr


def test_second_run_while_one_holds_the_lock_exits_3(sim: Any, tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    lock_path = wh.pipelines_dir / f".{wh.name}.lock"
    lock_path.parent.mkdir(parents=True)
    with FileLock(str(lock_path)):
        done = wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 3
    assert "another run" in done.stderr


def test_check_reports_organization_role_and_no_differences(sim: Any, tmp_path: Any) -> None:
    truth = sim.control.truth()
    done = Warehouse(tmp_path).cli("check", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert truth["organization"]["slug"] in done.stdout
    assert "role viewer" in done.stdout
    assert "no differences" in done.stdout


def test_contract_check_names_every_difference_in_plain_words(sim: Any) -> None:
    document = httpx.get(f"{sim.api_url}/openapi").json()
    assert compare(document) == []
    broken = copy.deepcopy(document)
    broken["paths"].pop("/insights/searches")
    runs_get = broken["paths"]["/runs"]["get"]
    runs_get["parameters"] = [p for p in runs_get["parameters"] if p["name"] != "sort"]
    texts = [f.text for f in compare(broken)]
    assert any("GET /insights/searches is not in the host's API" in t for t in texts)
    assert any("'sort' is not documented" in t for t in texts)


def test_help_names_the_flags_for_cron_and_monitoring(tmp_path: Any) -> None:
    wh = Warehouse(tmp_path)
    run = wh.cli("run", "--help").stdout
    assert "--quiet" in run and "--log-format {text,json}" in run
    status = wh.cli("status", "--help").stdout
    assert all(flag in status for flag in ("--json", "--max-age DURATION", "--org SLUG", "--all-orgs",
                                           "--log-format"))
    assert "--log-format" in wh.cli("demo", "--help").stdout


def _staging_rows(wh: Warehouse) -> dict[str, int]:
    with duckdb.connect(str(wh.db_path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = "
            "'armature_data_staging' and table_name not like '_dlt%'").fetchall()]
        return {t: con.execute(f'select count(*) from armature_data_staging."{t}"').fetchone()[0]  # type: ignore[index]
                for t in tables}


def test_after_a_load_the_merge_staging_copy_is_empty_unless_configured_to_stay(
    sim: Any, tmp_path: Any
) -> None:
    sim.control.reset(seed=3, runs=80, sessions=60)
    wh = Warehouse(tmp_path / "emptied")
    assert wh.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key).returncode == 0
    staged = _staging_rows(wh)
    assert "runs" in staged and set(staged.values()) == {0}, staged
    assert wh.count("runs") == len(sim.control.truth()["runs"])

    kept = Warehouse(tmp_path / "kept")
    done = kept.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key,
                    env={"LOAD__TRUNCATE_STAGING_DATASET": "false"})
    assert done.returncode == 0, done.stderr
    assert _staging_rows(kept)["runs"] == len(sim.control.truth()["runs"])
