"""Each fact stated once: one /org per load, and `check` asks for exactly what a load reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from armature_source import endpoints
from armature_source.vocabulary import API_PREFIX
from tests.support.ci_job import client
from tests.support.warehouse import Warehouse


def _shape(path: str) -> str:
    """`/api/armature/v1/runs/3f2c.../trace` as the endpoint table writes it: `/runs/{}/trace`."""
    path = path.removeprefix(API_PREFIX)
    table = {e.template for e in endpoints.ALL}
    for template in table:
        pattern = "^" + re.escape(template).replace(r"\{\}", "[^/]+") + "$"
        if re.match(pattern, path):
            return template
    return path


def _load_and_log(sim: Any, tmp_path: Path) -> list[dict[str, Any]]:
    sim.control.clear_requests()
    done = Warehouse(tmp_path).cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key)
    assert done.returncode == 0, done.stderr
    return [r for r in sim.control.requests() if r["path"].startswith(API_PREFIX)]


def test_one_load_by_the_command_asks_for_the_organization_exactly_once(sim: Any, tmp_path: Path) -> None:
    served = _load_and_log(sim, tmp_path)
    asked = [r for r in served if r["path"] == f"{API_PREFIX}/org"]
    assert len(asked) == 1, [r["path"] for r in served[:5]]


def test_one_load_by_the_library_asks_for_the_organization_exactly_once(sim: Any, tmp_path: Path) -> None:
    sim.control.clear_requests()
    Warehouse(tmp_path).load(sim)
    asked = [r for r in sim.control.requests() if r["path"] == f"{API_PREFIX}/org"]
    assert len(asked) == 1


def test_check_compares_exactly_the_requests_a_whole_load_makes(sim: Any, tmp_path: Path) -> None:
    # children served late (a run is then asked for by id) and a workflow archived (read by id
    # once it leaves the list), so that every request a load can make is made
    sim.control.configure(children_delay_minutes=30)
    served = _load_and_log(sim, tmp_path)
    with client(sim) as editor:
        workflow = editor.get("/workflows").json()["rows"][0]["id"]
        assert editor.delete(f"/workflows/{workflow}").status_code == 200
    sim.control.advance(minutes=20)
    served += _load_and_log(sim, tmp_path)
    asked: dict[str, set[str]] = {}
    for request in served:
        names = set(parse_qs(request.get("query") or "", keep_blank_values=True))
        asked.setdefault(_shape(request["path"]), set()).update(names)
    checked = {e.template: set(e.params) for e in endpoints.ALL}
    assert asked == checked


def test_a_duckdb_path_in_secrets_toml_is_where_run_status_sql_and_dashboard_all_look(
    sim: Any, tmp_path: Path,
) -> None:
    sim.control.reset(seed=3, runs=40, sessions=60)
    wh = Warehouse(tmp_path / "project")
    elsewhere = tmp_path / "shared" / "warehouse_from_secrets.duckdb"
    elsewhere.parent.mkdir()
    (wh.root / ".dlt").mkdir(parents=True)
    (wh.root / ".dlt" / "secrets.toml").write_text(
        f'[destination.duckdb]\ncredentials = "{elsewhere}"\n'
        f'[sources.armature]\nbase_url = "{sim.api_url}"\napi_key = "{sim.api_key}"\n')
    no_env = {"DESTINATION__DUCKDB__CREDENTIALS": None, "ARMATURE_DUCKDB": None}
    runs = len(sim.control.truth()["runs"])

    loaded = wh.cli("run", env=no_env)
    assert loaded.returncode == 0, loaded.stderr
    assert elsewhere.exists() and not list(wh.root.glob("*.duckdb"))
    shown = wh.cli("status", "--json", env=no_env)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert str(elsewhere) in shown.stdout
    counted = wh.cli("sql", "select count(*) as n from runs", "--pipeline-name", wh.name, env=no_env)
    assert counted.returncode == 0, counted.stderr
    assert f"│ {runs} " in counted.stdout or f" {runs} " in counted.stdout
    exported = wh.cli("dashboard", "--pipeline-name", wh.name, "--export", str(tmp_path / "board.html"),
                      env=no_env)
    assert exported.returncode == 0, exported.stderr
    assert str(elsewhere) in exported.stdout
