"""Run the dbt package (dbt_armature/) on a pipeline's own destination with dlt's dbt runner.

dlt's runner (`dlt.dbt.package`) hands dbt the pipeline's credentials as DLT__CREDENTIALS__*
and picks the profile named like the destination; the profiles are this folder's
`profiles.yml`, not dlt's bundled ones (its DuckDB profile installs extensions from the
internet). The sources are read from the pipeline's dataset (var `armature_schema`); the models
are built in `<dataset>_dbt`, beside the reporting views they equal. dbt's files (compiled SQL,
logs) go to the pipeline's working folder, never into the package.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import dlt
from dlt.helpers.dbt.exceptions import DBTProcessingError, PrerequisitesException

from armature_analytics.dbt_package import PACKAGE_DIR
from armature_pipeline.transform.venv import ensure

log = logging.getLogger("armature_pipeline")

PROFILES_DIR = Path(__file__).resolve().parent
SCHEMA_SUFFIX = "_dbt"
# dbt commands of one word: dlt's runner puts its own flags right after the command
ONE_WORD_COMMANDS = ("build", "run", "test", "compile", "seed", "snapshot", "deps", "debug", "parse", "ls",
                     "list", "show", "clean", "retry")


@dataclass
class DbtOutcome:
    """What a dbt command did: each node's status, and the tests that failed or nodes in error."""

    command: str
    ok: bool
    statuses: dict[str, str] = field(default_factory=dict)
    failed_tests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing run"
        return f"dbt {self.command}: {done} in {self.seconds:.1f} s"


def schema_of(pipeline: dlt.Pipeline) -> str:
    """The schema (dataset) the package's models are built in."""
    return f"{pipeline.dataset_name}{SCHEMA_SUFFIX}"


def run_command(pipeline: dlt.Pipeline, args: Sequence[str]) -> DbtOutcome:
    """One dbt command (`build`, `test --select ...`) on the pipeline's destination."""
    if not args or args[0] not in ONE_WORD_COMMANDS:
        raise ValueError(f"dbt command {' '.join(args[:2]) or '(none)'!r}: give one of "
                         f"{', '.join(ONE_WORD_COMMANDS)}, then its flags")
    with _dbt_environment(pipeline):
        runner = _runner(pipeline)
        variables = runner._get_package_vars(_vars(pipeline), schema_of(pipeline))
        # dlt's `run()` and `test()` are this call with their command named
        return _outcome(" ".join(args), lambda: runner._run_dbt_command(args[0], list(args[1:]), variables))


def after_load(pipeline: dlt.Pipeline) -> DbtOutcome:
    """After a load: the models built, then every test run (not `build`, which would skip the
    models whose sources fail a test). The package needs no `deps` and has no seeds."""
    with _dbt_environment(pipeline):
        runner = _runner(pipeline)
        built = _outcome("run", lambda: runner.run(
            cmd_params=[], additional_vars=_vars(pipeline), destination_dataset_name=schema_of(pipeline)))
        tested = _outcome("test", lambda: runner.test(
            additional_vars=_vars(pipeline), destination_dataset_name=schema_of(pipeline)))
    return DbtOutcome("run and test", built.ok and tested.ok, {**built.statuses, **tested.statuses},
                      tested.failed_tests, built.errors + tested.errors, built.seconds + tested.seconds)


def _vars(pipeline: dlt.Pipeline) -> dict[str, Any]:
    return {"armature_schema": pipeline.dataset_name}


def _runner(pipeline: dlt.Pipeline) -> Any:
    destination = pipeline.destination.destination_name if pipeline.destination else "duckdb"
    venv = ensure([destination])
    with dlt.config.values({"dbt_package_runner.package_profiles_dir": str(PROFILES_DIR)}):
        return dlt.dbt.package(pipeline, str(PACKAGE_DIR), venv=venv)


def _outcome(command: str, call: Any) -> DbtOutcome:
    started = time.monotonic()
    try:
        results = call()
        ok = True
    except PrerequisitesException as exc:
        results, ok = getattr(exc.args[0], "run_results", None), False
    except DBTProcessingError as exc:
        results, ok = exc.run_results, False
    outcome = DbtOutcome(command, ok, seconds=time.monotonic() - started)
    for result in results if isinstance(results, list) else []:
        outcome.statuses[result.model_name] = result.status
        if result.status == "fail":
            outcome.failed_tests.append(f"{result.model_name} ({result.message})")
        elif result.status == "error":
            outcome.errors.append(f"{result.model_name}: {result.message}")
    if not ok and not outcome.failed_tests and not outcome.errors:
        outcome.errors.append(f"dbt {command} failed; its output above says why")
    return outcome


@contextmanager
def _dbt_environment(pipeline: dlt.Pipeline) -> Iterator[None]:
    """dbt's settings for one call: its files in the pipeline's folder, no usage tracking."""
    folder = Path(pipeline.working_dir) / "dbt"
    settings = {"DBT_TARGET_PATH": str(folder / "target"), "DBT_LOG_PATH": str(folder / "logs"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
