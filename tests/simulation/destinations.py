"""Where a history loads: a DuckDB file, or a database of a throwaway Postgres server. What
differs between the two is here, one class each, behind one interface:

- what the command is told (`env`, `args`) and what the library load is given (`library_args`);
- how the checks read the dataset (`exists`, `connect`: one query function per check);
- a copy of the warehouse kept after each good load (`keep`) and put back (`restore`);
- the warehouse out of reach for one load (`down`), and another reader holding it while a load
  runs (`reader_holds`);
- why a step does not apply to this destination at this moment (`unfit`), which the harness
  logs as a skip instead of dropping the step silently.

A destination is made fresh for each history (`Place`: a warehouse folder in, a destination
out) and `discard`ed at its end.
"""

from __future__ import annotations

import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Callable, ClassVar

import duckdb
import psycopg2
import psycopg2.errors

from tests.support.holder import held_for_writing
from tests.support.postgres import PostgresServer
from tests.support.warehouse import DATASET, Warehouse

Query = Callable[[str], list[tuple[Any, ...]]]
TABLES_SQL = f"select table_name from information_schema.tables where table_schema = '{DATASET}'"
IN_USE_WAIT_S = 30.0  # how long a copy of a Postgres database waits for the last session on it to end
NAMES = ("duckdb", "postgres")


class Destination(ABC):
    """One history's warehouse."""

    name: ClassVar[str]
    read_copy: ClassVar[bool]  # whether a good load publishes a read copy (the `publish:*` kill points)

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def args(self) -> tuple[str, ...]:
        """Flags the command's `run` and `status` take for this destination."""
        return ()

    @abstractmethod
    def env(self) -> dict[str, str]:
        """Variables every process of the history runs with (the destination's credentials)."""

    @abstractmethod
    def library_args(self) -> list[str]:
        """What `tests.simulation.library_load` is given after its four arguments."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether there is a warehouse to read."""

    @abstractmethod
    def connect(self) -> AbstractContextManager[Query]:
        """A read-only connection for one check, as a function from SQL to rows."""

    @abstractmethod
    def keep(self, index: int) -> str:
        """Keep a copy of the warehouse as it is now (nothing is connected to it); its name."""

    @abstractmethod
    def restore(self, backup: str) -> None:
        """Put the copy `backup` back in the warehouse's place, as an operator restoring it does."""

    @abstractmethod
    def down(self) -> AbstractContextManager[None]:
        """The warehouse cannot be reached or opened inside the block; back as it was after."""

    @abstractmethod
    def reader_holds(self, seconds: float) -> AbstractContextManager[str]:
        """Another reader holds the warehouse from the block's start for `seconds` (or to its
        end); the block is given what it holds, for the log."""

    def unfit(self, op: str) -> str | None:
        """Why step `op` cannot be played on this destination now; None when it can."""
        return None

    @abstractmethod
    def discard(self) -> None:
        """Free what the history left outside its folder (the folder goes with the history)."""


class DuckDB(Destination):
    """The warehouse file in the history's folder, the pipeline's default destination."""

    name = "duckdb"
    read_copy = True

    def env(self) -> dict[str, str]:
        return {"DESTINATION__DUCKDB__CREDENTIALS": str(self.wh.db_path)}

    def library_args(self) -> list[str]:
        return []

    def exists(self) -> bool:
        return self.wh.db_path.exists()

    @contextmanager
    def connect(self) -> Iterator[Query]:
        con = duckdb.connect(str(self.wh.db_path), read_only=True)
        try:
            yield lambda sql: con.execute(sql).fetchall()
        finally:
            con.close()

    def keep(self, index: int) -> str:
        backup = self.wh.root.parent / f"backup-{index}.duckdb"
        shutil.copy(self.wh.db_path, backup)
        return backup.name

    def restore(self, backup: str) -> None:
        shutil.copy(self.wh.root.parent / backup, self.wh.db_path)
        Path(f"{self.wh.db_path}.wal").unlink(missing_ok=True)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The file swapped for one that is not a DuckDB file, then given back."""
        away = self.wh.db_path.with_name("away.duckdb")
        self.wh.db_path.rename(away)
        self.wh.db_path.write_bytes(b"not a database\n" * 1000)
        try:
            yield
        finally:
            away.replace(self.wh.db_path)

    @contextmanager
    def reader_holds(self, seconds: float) -> Iterator[str]:
        """Another process holding the file read-write, as a running load does."""
        with held_for_writing(self.wh.db_path) as holder:
            def let_go() -> None:
                assert holder.stdin is not None
                holder.stdin.write("\n")
                holder.stdin.flush()

            release = threading.Timer(seconds, let_go)
            release.start()
            try:
                yield f"another process held {self.wh.db_path.name} read-write for {seconds} s"
            finally:
                release.cancel()

    def unfit(self, op: str) -> str | None:
        if op in ("reader_holds", "destination_down") and not self.exists():
            return "no warehouse file yet"
        return None

    def discard(self) -> None:
        pass  # the file and its copies are in the history's folder


class Postgres(Destination):
    """A database of its own on the throwaway server, created for the history, dropped after."""

    name = "postgres"
    read_copy = False

    def __init__(self, wh: Warehouse, server: PostgresServer) -> None:
        super().__init__(wh)
        self.server = server
        self.database = server.create_database()
        self.url = server.url(self.database)
        self.backups: list[str] = []
        self._down = False

    def args(self) -> tuple[str, ...]:
        return ("--destination", "postgres")

    def env(self) -> dict[str, str]:
        # down: the same database on a port nothing listens on (the discard port)
        url = self.url.replace(f":{self.server.port}/", ":9/") if self._down else self.url
        return {"DESTINATION__POSTGRES__CREDENTIALS": url}

    def library_args(self) -> list[str]:
        return [self.url]

    def exists(self) -> bool:
        with self.connect() as query:
            return bool(query(TABLES_SQL))

    @contextmanager
    def connect(self) -> Iterator[Query]:
        con = psycopg2.connect(self.url)
        con.autocommit = True  # each query its own transaction: a check holds no lock between them
        try:
            def query(sql: str) -> list[tuple[Any, ...]]:
                with con.cursor() as cursor:
                    cursor.execute(sql)
                    return list(cursor.fetchall())

            yield query
        finally:
            con.close()

    def keep(self, index: int) -> str:
        backup = f"{self.database}_b{index}"
        self._admin(f"create database {backup} template {self.database}")
        self.backups.append(backup)
        return backup

    def restore(self, backup: str) -> None:
        self._admin(f"drop database {self.database} with (force)")
        self._admin(f"create database {self.database} template {backup}")

    @contextmanager
    def down(self) -> Iterator[None]:
        self._down = True
        try:
            yield
        finally:
            self._down = False

    @contextmanager
    def reader_holds(self, seconds: float) -> Iterator[str]:
        """A BI tool's session: a transaction open on a table of the dataset, let go later."""
        reader = psycopg2.connect(self.url)
        lock = threading.Lock()
        try:
            with reader.cursor() as cursor:  # psycopg2 begins the transaction; nothing ends it
                cursor.execute(f"select count(*) from {DATASET}.runs")
                row = cursor.fetchone()

            def let_go() -> None:
                with lock:
                    if not reader.closed:
                        reader.rollback()
                        reader.close()

            release = threading.Timer(seconds, let_go)
            release.start()
            try:
                yield (f"a session held a transaction open on {DATASET}.runs ({row[0] if row else '?'} rows "
                       f"read) for {seconds} s")
            finally:
                release.cancel()
        finally:
            with lock:
                if not reader.closed:
                    reader.close()

    def unfit(self, op: str) -> str | None:
        if op == "reader_holds":
            with self.connect() as query:
                if ("runs",) not in query(TABLES_SQL):
                    return "no runs table yet for a reader to read"
        return None

    def discard(self) -> None:
        for name in (self.database, *self.backups):
            self._admin(f"drop database if exists {name} with (force)")

    def _admin(self, sql: str) -> None:
        """One statement on the server's maintenance database. A copy waits for sessions still
        ending on its template (a killed load's backend, autovacuum) rather than failing."""
        deadline = time.monotonic() + IN_USE_WAIT_S
        while True:
            con = self.server.connect()
            con.autocommit = True
            try:
                with con.cursor() as cursor:
                    cursor.execute(sql)
                return
            except psycopg2.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            finally:
                con.close()


Place = Callable[[Warehouse], Destination]  # a fresh destination for one history's warehouse


def place(name: str, server: PostgresServer | None = None) -> Place:
    """How each history of a run gets its destination: `duckdb`, or `postgres` on `server`."""
    if name == "duckdb":
        return DuckDB
    if name == "postgres" and server is not None:
        return lambda wh: Postgres(wh, server)
    raise ValueError(f"no destination {name!r} (server: {server})")
