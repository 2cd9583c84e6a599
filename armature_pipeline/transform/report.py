"""What the command says of a dbt run: a failing test like a coverage gap (a warning naming it,
the load kept), a node in error or an environment that could not be made as an error."""

from __future__ import annotations

import logging

import dlt

from armature_pipeline.output import logs
from armature_pipeline.transform.runner import DbtOutcome, after_load
from armature_pipeline.transform.venv import DbtSetupError

log = logging.getLogger("armature_pipeline")


def dbt_after_load(pipeline: dlt.Pipeline) -> DbtOutcome:
    """The package run after a load (`run --dbt`); dbt's environment failing is an outcome too."""
    try:
        return after_load(pipeline)
    except DbtSetupError as exc:
        return DbtOutcome("run and test", False, errors=[str(exc)])


def report(outcome: DbtOutcome) -> None:
    """A warning per failed test, an error per failed node, then one summary line."""
    for test in outcome.failed_tests:
        log.warning("dbt test failed: %s", test, extra={"dbt_test": test})
    for error in outcome.errors:
        log.error("dbt: %s", error)
    failed = len(outcome.failed_tests)
    logs.report(log, "%s%s", outcome.summary(),
                f"; {failed} test{'s' if failed != 1 else ''} FAILED (the data is kept; see the warnings)"
                if failed else "", level=logging.WARNING if failed or outcome.errors else logging.INFO,
                dbt_command=outcome.command, dbt_statuses=outcome.statuses,
                dbt_failed_tests=outcome.failed_tests, dbt_errors=outcome.errors)
