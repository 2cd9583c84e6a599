"""`armature-pipeline demo`: start the simulator, load it into armature_demo.duckdb, show what landed."""

from __future__ import annotations

import argparse
import logging

from armature_pipeline.commands import report
from armature_pipeline.load.runner import run_load
from armature_pipeline.settings import DEFAULT_DATASET, DEMO_PIPELINE, EXIT_OK, Settings

log = logging.getLogger("armature_pipeline")


def main(args: argparse.Namespace) -> int:
    from armature_sim.server import spawn

    log.info("Starting the Armature simulator (%d runs over 30 days) ...", args.runs)
    with spawn(runs=args.runs, latency_ms=args.latency_ms) as sim:
        log.info("Simulator listening at %s (key %s).", sim.api_url, sim.api_key)
        settings = Settings(
            destination="duckdb", dataset=DEFAULT_DATASET, pipeline_name=DEMO_PIPELINE,
            full_refresh=True,
            # always its own file, whatever dlt's config names for the real warehouse
            duckdb_file=f"{DEMO_PIPELINE}.duckdb",
            source_args={"base_url": sim.api_url, "api_key": sim.api_key},
        )
        pipeline, outcome, _ = run_load(settings, after=report.after_load)
    if outcome.code == EXIT_OK:
        report.demo_summary(pipeline)
    else:
        log.error("%s", outcome.message, extra={"pipeline": pipeline.pipeline_name})
    return outcome.code
