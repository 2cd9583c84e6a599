"""The virtual environment dbt runs in: built on first use from `constraints-dbt.txt`, then reused.

dbt's own pins clash with the project's (`constraints.txt`), so dbt never shares its
environment: the first `armature-pipeline dbt` or `run --dbt` creates one (pip reaches the
package index, about a minute), with dbt-core, dlt (dlt's dbt runner imports it there), DuckDB
and the adapter of the destination; a destination's adapter is added when first needed. It
lives in `ARMATURE_DBT_VENV`, else in the user's cache folder under a name that changes with
the pins, so new pins make a new one. Creation holds a file lock: two runs never build it at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

from dlt.common.runners import Venv
from filelock import FileLock

log = logging.getLogger("armature_pipeline")

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints-dbt.txt"
VENV_SETTING = "ARMATURE_DBT_VENV"
CORE = ("dbt-core", "dlt", "duckdb")
# dlt's destination names -> the dbt adapter package
ADAPTERS = {"duckdb": "dbt-duckdb", "postgres": "dbt-postgres", "bigquery": "dbt-bigquery",
            "snowflake": "dbt-snowflake", "redshift": "dbt-redshift", "motherduck": "dbt-duckdb"}
PIP_TIMEOUT_S = 900
# written last: an environment without it was cut short, and is made again
READY_MARK = ".armature-ready"


class DbtSetupError(Exception):
    """dbt's environment could not be made (the index unreachable, no adapter for the destination)."""


def venv_dir() -> Path:
    """Where dbt's environment is: `ARMATURE_DBT_VENV`, else the cache folder, named by the pins."""
    if os.environ.get(VENV_SETTING):
        return Path(os.environ[VENV_SETTING]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:12]
    return cache / "armature-dlt" / f"dbt-{digest}"


def ensure(destinations: Iterable[str]) -> Venv:
    """dbt's environment with the adapters of `destinations`, made or completed first."""
    if not CONSTRAINTS.exists():
        raise DbtSetupError(f"{CONSTRAINTS.name} is not beside the package: the dbt package runs from a "
                            "checkout of armature-dlt, not from an installed wheel")
    wanted = []
    for name in destinations:
        if name not in ADAPTERS:
            raise DbtSetupError(f"no dbt adapter is known for destination {name!r}; the package runs "
                                f"on {', '.join(sorted(ADAPTERS))}")
        wanted.append(ADAPTERS[name])
    path = venv_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock"):
        if not (path / READY_MARK).exists():
            _create(path, wanted)
        missing = [package for package in wanted if not _installed(path, package)]
        if missing:
            log.info("dbt: adding %s to its environment", ", ".join(missing))
            _pip(path, missing)
    return Venv.restore(str(path))


def _create(path: Path, adapters: list[str]) -> None:
    """Build the environment in its place (its scripts name their interpreter by path), marked
    ready last: one cut short is removed and built again."""
    started = time.monotonic()
    log.info("dbt: creating its environment at %s (once; pip installs the pinned dbt)", path)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    _pip(path, [*CORE, *adapters])
    (path / READY_MARK).write_text("")
    log.info("dbt: environment ready in %.0f s", time.monotonic() - started)


def _pip(path: Path, packages: list[str]) -> None:
    command = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-c", str(CONSTRAINTS), *packages]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DbtSetupError(f"installing {', '.join(packages)} for dbt took over {PIP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "ERROR" in line] or done.stderr.splitlines()[-5:]
        raise DbtSetupError(f"pip could not install {', '.join(packages)} for dbt (is the package index "
                            f"reachable?): {' '.join(errors)[-800:]}")


def _installed(path: Path, package: str) -> bool:
    """Whether the environment holds `package` (an adapter: its `dbt.adapters` module)."""
    module = package.removeprefix("dbt-")
    return any(path.glob(f"lib/python*/site-packages/dbt/adapters/{module}/__init__.py"))
