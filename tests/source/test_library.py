"""The source as a dlt user picks it up: in a pipeline of their own, closed early, configured
the dlt way, with no process-wide side effects. Expected numbers come from the simulator."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Iterator

import dlt
import pyarrow as pa
import pytest

from armature_source import armature_source
from armature_source.tables import ALL_TABLES
from tests.support.expectations import assert_first_load, expected
from tests.support.warehouse import Warehouse

WORLD = dict(seed=5, runs=160, days=30, sessions=120)


@pytest.fixture
def world(sim: Any) -> Any:
    sim.control.reset(**WORLD)
    return sim


def source_of(sim: Any) -> Any:
    return armature_source(base_url=sim.api_url, api_key=sim.api_key)


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_a_load_closed_early_by_add_limit_loses_no_child_on_the_next_load(
    world: Any, tmp_path: Path, limit: int
) -> None:
    wh = Warehouse(tmp_path)
    pipeline = wh.pipeline()
    pipeline.run(source_of(world).with_resources("runs").add_limit(limit))
    truth = world.control.truth()
    # add_limit(n) is n whole batches: a page of 100 runs each, with their children
    assert wh.count("runs") == min(len(truth["runs"]), 100 * limit)
    if limit * 100 < len(truth["runs"]):
        assert wh.count("trace_spans") < expected(truth)["trace_spans"]
    pipeline.run(source_of(world))
    assert_first_load(wh, truth)


def test_an_error_in_a_downstream_transformer_loses_nothing_on_the_next_load(
    world: Any, tmp_path: Path
) -> None:
    seen = {"items": 0}

    @dlt.transformer(name="fussy")
    def fussy(item: Any) -> Iterator[Any]:
        seen["items"] += 1
        if seen["items"] == 3:
            raise RuntimeError("a user's transformer failed")
        yield pa.table({"n": [seen["items"]]})

    source = source_of(world).with_resources("runs")
    wh = Warehouse(tmp_path)
    pipeline = wh.pipeline()
    with pytest.raises(Exception, match="a user's transformer failed"):
        pipeline.run([source.runs, source.runs | fussy])
    pipeline.run(source_of(world))
    assert_first_load(wh, world.control.truth())


def test_library_users_configure_the_source_the_dlt_way(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("ARMATURE_BASE_URL", "ARMATURE_API_KEY", "SOURCES__ARMATURE__BASE_URL",
                     "SOURCES__ARMATURE__API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ARMATURE_BASE_URL", world.api_url)
    monkeypatch.setenv("ARMATURE_API_KEY", world.api_key)
    wh = Warehouse(tmp_path / "armature_env")
    wh.pipeline().run(armature_source().with_resources("organization"))
    assert wh.ids("organization") == {world.control.truth()["organization"]["id"]}

    # dlt's own keys win over the ARMATURE_* fallback
    monkeypatch.setenv("ARMATURE_API_KEY", "amt_stale_key")
    monkeypatch.setenv("SOURCES__ARMATURE__API_KEY", world.api_key)
    wh = Warehouse(tmp_path / "dlt_env")
    wh.pipeline().run(armature_source().with_resources("organization"))
    assert wh.count("organization") == 1


def test_the_command_honours_dlt_secrets_toml_for_the_key_and_the_duckdb_file(
    world: Any, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    target = tmp_path / "elsewhere" / "warehouse_from_toml.duckdb"
    target.parent.mkdir()
    (project / ".dlt" / "secrets.toml").write_text(
        f'[sources.armature]\nbase_url = "{world.api_url}"\napi_key = "{world.api_key}"\n\n'
        f'[destination.duckdb]\ncredentials = "{target}"\n'
    )
    wh = Warehouse(project)
    done = wh.cli("run", "--resources", "organization", env={
        "DESTINATION__DUCKDB__CREDENTIALS": None, "ARMATURE_API_KEY": None,
        "ARMATURE_BASE_URL": None, "DLT_PROJECT_DIR": str(project),
    })
    assert done.returncode == 0, done.stderr
    assert target.exists() and not (project / f"{wh.name}.duckdb").exists()


def test_allow_insecure_http_from_dlt_config_takes_effect_in_the_command(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path)
    args = ("run", "--base-url", "http://armature.invalid", "--api-key", "amt_a_b")
    refused = wh.cli(*args)
    assert refused.returncode == 2 and "plain http" in refused.stderr
    allowed = wh.cli(*args, env={"SOURCES__ARMATURE__ALLOW_INSECURE_HTTP": "true"})
    assert "plain http" not in allowed.stderr  # past the check: now it fails to reach the host
    assert allowed.returncode == 2 and "Cannot reach" in allowed.stderr


def test_creating_and_running_the_source_changes_nothing_process_wide(world: Any, tmp_path: Path) -> None:
    dlt_logger = logging.getLogger("dlt")
    filters = list(dlt_logger.filters)
    source = source_of(world)
    assert dlt.config.get("normalize.parquet_normalizer.add_dlt_load_id") is None
    # this load's threads only: an earlier test in the same worker may hold a client of its own
    before = set(threading.enumerate())
    Warehouse(tmp_path / "ours").pipeline().run(source)
    assert dlt.config.get("normalize.parquet_normalizer.add_dlt_load_id") is None
    # one filter stays, by design: dlt logs its notice about our JSON columns when it merges an
    # item's table, which can be after the load's last resource ended; it lets everyone
    # else's notices through
    added = [f for f in dlt_logger.filters if f not in filters]
    assert [getattr(f, "name", "") for f in added] in ([], ["armature-json-as-text"])
    theirs_notice = logging.LogRecord("dlt", logging.WARNING, "", 0, "In resource: theirs, when merging "
                                      "arrow schema with dlt schema, several column hints were different.",
                                      None, None)
    assert all(f.filter(theirs_notice) for f in added)
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("armature-http")], \
        "the load left its HTTP threads running"

    @dlt.resource(name="theirs")
    def theirs() -> Iterator[Any]:
        yield pa.table({"x": [1, 2]})

    other = dlt.pipeline("someone_else", destination=dlt.destinations.duckdb(str(tmp_path / "o.duckdb")),
                         dataset_name="theirs", pipelines_dir=str(tmp_path / "other"))
    other.run(theirs())
    with other.sql_client() as client:
        columns = [r[0] for r in client.execute_sql(
            "select column_name from information_schema.columns where table_name = 'theirs'")]
    assert "_dlt_load_id" not in columns


def test_every_table_and_column_is_described_and_children_reference_their_parents(
    world: Any, tmp_path: Path
) -> None:
    wh = Warehouse(tmp_path)
    pipeline = wh.pipeline()
    pipeline.run(source_of(world))
    schema = pipeline.default_schema
    for table in ALL_TABLES:
        stored = schema.tables[table.name]
        assert stored.get("description"), table.name
        for column in (*table.columns, "_dlt_load_id"):
            assert stored["columns"][column].get("description"), (table.name, column)
        if table.parent:
            parent, mine, theirs = table.parent
            refs = stored.get("references") or []
            assert {(r["referenced_table"], tuple(r["columns"]), tuple(r["referenced_columns"]))
                    for r in refs} == {(parent, mine, theirs)}, table.name
    from armature_analytics.comments import apply_comments

    assert apply_comments(pipeline) > 150
    comments = dict(((t, c), k) for t, c, k in wh.query_catalog(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = "
        "'armature_data'"))
    assert comments[("runs", "cost_usd")] == schema.tables["runs"]["columns"]["cost_usd"]["description"]
    assert all(comments[(t.name, c)] for t in ALL_TABLES for c in t.columns)


def test_dlt_tools_work_on_a_pipeline_the_command_loaded(world: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    wh = Warehouse(tmp_path)
    # the default warehouse: a file named after the pipeline in the current folder, as dlt names it
    loaded = wh.cli("run", "--base-url", world.api_url, "--api-key", world.api_key,
                    env={"DESTINATION__DUCKDB__CREDENTIALS": None})
    assert loaded.returncode == 0, loaded.stderr
    assert (tmp_path / f"{wh.name}.duckdb").exists()
    dlt_cli = [sys.executable, "-m", "dlt", "pipeline", "--pipelines-dir", str(wh.pipelines_dir), wh.name]
    outputs = {}
    for command in ("info", "trace", "schema"):
        done = subprocess.run([*dlt_cli, command], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        outputs[command] = done.stdout
    assert "trace_spans" in outputs["schema"] and "description" in outputs["schema"]
    assert "armature" in outputs["info"]

    truth = expected(world.control.truth())
    attached = dlt.attach(wh.name, pipelines_dir=str(wh.pipelines_dir))
    counts = attached.dataset().row_counts().df()
    rows = dict(zip(counts["table_name"], counts["row_count"], strict=True))
    assert {t.name for t in ALL_TABLES} <= set(rows)
    assert rows["trace_spans"] == truth["trace_spans"]
    assert set(attached.dataset().runs.df()["id"]) == truth["runs"]
