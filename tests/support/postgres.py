"""A throwaway Postgres server for the tests: its own data folder, a free port, gone afterwards.

The server refuses to run as root, so under root (CI) it runs as the `postgres` OS user, or as
an unprivileged user created for it when there is none. Binaries come from ARMATURE_PG_BIN, or
the newest /usr/lib/postgresql/*/bin, or the folder of `pg_ctl` on PATH.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

SUPERUSER = "armature"
FALLBACK_OS_USER = "armature-pg"
START_ATTEMPTS = 3


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    candidates: list[Path] = []
    if os.environ.get("ARMATURE_PG_BIN"):
        candidates.append(Path(os.environ["ARMATURE_PG_BIN"]))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                         reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", FALLBACK_OS_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    FALLBACK_OS_USER], check=True, capture_output=True)
    return pwd.getpwnam(FALLBACK_OS_USER)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: connect over TCP on 127.0.0.1 as `armature`, no password checked."""

    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None

    @classmethod
    def start(cls, bindir: Path) -> PostgresServer:
        """initdb into a fresh folder and start the server on a free port."""
        user = _os_user()
        root = Path(tempfile.mkdtemp(prefix="armature-pg-"))
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        server = cls(bindir, root, 0, user)
        server._run("initdb", "-D", str(server.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                    "--no-locale", "--no-sync")
        for attempt in range(START_ATTEMPTS):
            server.port = _free_port()
            try:
                server._run("pg_ctl", "-D", str(server.data), "-l", str(root / "server.log"), "-w",
                            "-t", "60", "-o", f"-F -p {server.port} -k {root} "
                            "-c listen_addresses=127.0.0.1 -c max_connections=50", "start")
                return server
            except subprocess.CalledProcessError:
                if attempt == START_ATTEMPTS - 1:
                    log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
                    server.remove()
                    raise RuntimeError(f"Postgres did not start; its log:\n{log}") from None
        raise AssertionError("unreachable")

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, tool: str, *args: str) -> None:
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        subprocess.run([str(self.bindir / tool), *args], check=True, capture_output=True,
                       cwd=self.root, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
                       timeout=120, **kwargs)

    def url(self, database: str = "postgres") -> str:
        """A connection string dlt and psycopg2 both take (the password is not checked)."""
        return f"postgresql://{SUPERUSER}:unused@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        return psycopg2.connect(self.url(database))

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        connection = self.connect()
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"create database {name}")
        finally:
            connection.close()
        return name

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
