"""Loading the simulator into a throwaway warehouse and reading it back, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import dlt
import duckdb

from armature_source import armature_source
from armature_source.tables import ALL_TABLES

DATASET = "armature_data"
REPO = Path(__file__).resolve().parents[2]
KEYS = {table.name: table.key for table in ALL_TABLES}


@dataclass
class Warehouse:
    """A DuckDB file plus the dlt working folder of one pipeline, both under tmp_path."""

    root: Path
    name: str = "armature_test"
    file: str = "warehouse.duckdb"

    @property
    def db_path(self) -> Path:
        return self.root / self.file

    def read_copy(self) -> "Warehouse":
        """The same queries on the read copy the loader publishes beside the warehouse."""
        return Warehouse(self.root, self.name, f"{Path(self.file).stem}_read.duckdb")

    @property
    def pipelines_dir(self) -> Path:
        return self.root / "pipelines"

    def pipeline(self, destination: Any = None) -> dlt.Pipeline:
        return dlt.pipeline(
            pipeline_name=self.name,
            destination=destination or dlt.destinations.duckdb(str(self.db_path)),
            dataset_name=DATASET,
            pipelines_dir=str(self.pipelines_dir),
        )

    def load(self, sim: Any, resources: Iterable[str] | None = None, destination: Any = None,
             **options: Any) -> Any:
        """Run one load of the simulator in this process (into `destination`, by default the
        DuckDB file); returns dlt's LoadInfo."""
        source = armature_source(base_url=sim.api_url, api_key=sim.api_key, **options)
        if resources:
            source = source.with_resources(*resources)
        return self.pipeline(destination).run(source)

    def cli(
        self, *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 300,
        crash_at: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `armature-pipeline` as a user would, against this warehouse.

        `env` adds variables; a None value removes one. `crash_at` runs it under
        tests/support/crash_at.py, which SIGKILLs it at that point.
        """
        command, full_env = self.command(*args, env=env, crash_at=crash_at)
        return subprocess.run(command, capture_output=True, text=True, env=full_env,
                              timeout=timeout, cwd=self.root)

    def run_into_postgres(
        self, sim: Any, url: str, *extra: str, timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """`armature-pipeline run` from `sim` into the Postgres database at `url`."""
        return self.cli("run", "--base-url", sim.api_url, "--api-key", sim.api_key, "--destination", "postgres",
                        *extra, env={"DESTINATION__POSTGRES__CREDENTIALS": url}, timeout=timeout)

    def start(self, *args: str, env: Mapping[str, str | None] | None = None,
              crash_at: str | None = None) -> subprocess.Popen[str]:
        """Start `armature-pipeline` as `cli` runs it, its output on pipes, without waiting."""
        command, full_env = self.command(*args, env=env, crash_at=crash_at)
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=full_env, cwd=self.root)

    def command(
        self, *args: str, env: Mapping[str, str | None] | None = None, crash_at: str | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """The command line and environment `cli` and `start` run."""
        merged: dict[str, str | None] = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "DESTINATION__DUCKDB__CREDENTIALS": str(self.db_path),
            **(env or {}),
        }
        full_env = {k: v for k, v in merged.items() if v is not None}
        runner = ["tests.support.crash_at", crash_at] if crash_at else ["armature_pipeline.cli"]
        command = [sys.executable, "-m", *runner, *args]
        if {"run", "status"} & set(args):
            command += ["--pipeline-name", self.name, "--pipelines-dir", str(self.pipelines_dir)]
        self.root.mkdir(parents=True, exist_ok=True)
        return command, full_env

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            con.execute(f"set schema '{DATASET}'")
            return con.execute(sql).fetchall()

    def tables(self) -> set[str]:
        if not self.db_path.exists():
            return set()
        rows = self.query_catalog(
            f"select table_name from information_schema.tables where table_schema = '{DATASET}' "
            "and table_type = 'BASE TABLE'"
        )
        return {r[0] for r in rows}

    def query_catalog(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def keys(self, table: str) -> list[tuple[Any, ...]]:
        """Every key of a table (with repeats, so duplicates show)."""
        columns = ", ".join(KEYS[table])
        return self.query(f"select {columns} from {table}")

    def ids(self, table: str, column: str = "id") -> set[Any]:
        return {r[0] for r in self.query(f"select {column} from {table}")}

    def count(self, table: str) -> int:
        """Rows in `table`; 0 when the table was never created."""
        if table not in self.tables():
            return 0
        return int(self.query(f"select count(*) from {table}")[0][0])

    def content(self, table: str) -> list[tuple[Any, ...]]:
        """Every row without dlt's bookkeeping columns, sorted, to compare two states."""
        columns = [
            r[0] for r in self.query(
                "select column_name from information_schema.columns "
                f"where table_schema = '{DATASET}' and table_name = '{table}' order by 1"
            ) if not r[0].startswith("_dlt")
        ]
        rows = self.query(f"select {', '.join(columns)} from {table}")
        return sorted(rows, key=repr)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every data table's rows; the ledger, which gains rows each load by design, apart."""
        return {name: self.content(name) for name in self.tables()
                if not name.startswith("_dlt") and name != "load_ledger"}


def duplicates(keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [key for key, n in Counter(keys).items() if n > 1]
