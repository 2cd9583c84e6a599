"""`armature-pipeline dbt COMMAND [ARGS]`: one dbt command of the dbt package (dbt_armature/) on
the pipeline's destination, with its credentials, under the pipeline's lock (so never beside a
load writing the same DuckDB file). Exit 0 when dbt succeeded, 1 when a test failed or a node
or dbt's environment did, 2 for a command dbt cannot take this way, 3 when a load holds the lock.
"""

from __future__ import annotations

import argparse
import logging

from armature_pipeline.commands.flags import resolve
from armature_pipeline.load.lock import pipeline_lock
from armature_pipeline.settings import EXIT_FAILED, EXIT_OK, UsageError
from armature_pipeline.transform.report import report
from armature_pipeline.transform.runner import ONE_WORD_COMMANDS, run_command
from armature_pipeline.transform.venv import DbtSetupError
from armature_pipeline.warehouse.destination import make_pipeline

log = logging.getLogger("armature_pipeline")


def main(args: argparse.Namespace) -> int:
    dbt_args = [a for a in args.dbt_args if a != "--"]
    if not dbt_args or dbt_args[0] not in ONE_WORD_COMMANDS:
        raise UsageError(f"armature-pipeline dbt {' '.join(dbt_args[:2])}: give a dbt command, one of "
                         f"{', '.join(ONE_WORD_COMMANDS)}, then its flags (e.g. `dbt build --select "
                         "unmet_demand`); nothing was run.")
    pipeline = make_pipeline(resolve(args))
    with pipeline_lock(pipeline):
        try:
            outcome = run_command(pipeline, dbt_args)
        except DbtSetupError as exc:
            log.error("dbt: %s", exc)
            return EXIT_FAILED
    report(outcome)
    return EXIT_OK if outcome.ok else EXIT_FAILED
