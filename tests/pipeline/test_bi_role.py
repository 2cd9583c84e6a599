"""The read-only Postgres role of docs/analysts.md, run as printed against the real Postgres:
the role reads every table and view, writes nothing, and keeps reading what later loads create,
a view made anew and a schema swapped in by --full-refresh included."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from tests.support.warehouse import REPO, Warehouse

pytestmark = pytest.mark.postgres
ROLE = "armature_bi"
WORLD = dict(seed=43, runs=200, days=30, sessions=80)


def recipe() -> str:
    """The docs' shell block that creates the role."""
    blocks = re.findall(r"^```sh run\n(.*?)^```", (REPO / "docs" / "analysts.md").read_text(), re.M | re.S)
    [block] = [b for b in blocks if f"create role {ROLE}" in b]
    return str(block)


def as_role(url: str) -> Any:
    parts = urlsplit(url)
    return psycopg2.connect(urlunsplit(parts._replace(netloc=f"{ROLE}:unused@{parts.hostname}:{parts.port}")))


def relations(url: str) -> dict[str, str]:
    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute("select table_name, table_type from information_schema.tables where table_schema = 'armature_data'")
        return dict(cur.fetchall())


@pytest.mark.slow
def test_the_docs_role_reads_everything_writes_nothing_and_keeps_reading_later_loads(
    sim: Any, tmp_path: Any, postgres_url: str,
) -> None:
    sim.control.reset(**WORLD)
    wh = Warehouse(tmp_path)
    env = {"DESTINATION__POSTGRES__CREDENTIALS": postgres_url}
    assert wh.run_into_postgres(sim, postgres_url).returncode == 0
    made = subprocess.run(["bash", "-e", "-c", recipe()], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert made.returncode == 0, made.stderr

    def readable() -> dict[str, int]:
        with as_role(postgres_url) as con, con.cursor() as cur:
            found = {}
            for name in relations(postgres_url):
                cur.execute(f'select count(*) from armature_data."{name}"')
                found[name] = cur.fetchone()[0]
            return found

    seen = readable()
    assert {"runs", "_dlt_loads", "flaky_workflows", "load_ledger"} <= set(seen)
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute("select count(*) from armature_data.runs")
        assert seen["runs"] == cur.fetchone()[0] > 0
    with as_role(postgres_url) as con, con.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("insert into armature_data.workflows (id) values ('x')")
    with as_role(postgres_url) as con, con.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("create table armature_data.mine (x int)")

    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute("drop view armature_data.flaky_workflows")
    sim.control.advance(minutes=120)
    assert wh.run_into_postgres(sim, postgres_url).returncode == 0
    assert "flaky_workflows" in readable(), "a view the next load made anew"

    assert wh.run_into_postgres(sim, postgres_url, "--full-refresh").returncode == 0
    after = readable()
    assert set(after) == set(relations(postgres_url)) and after["runs"] > 0, "the schema a refresh swapped in"
