"""Hold the pipeline's lock, make the pipeline, load once, keep the outcome: how every caller loads.

The command's `run` (one pipeline, `--org`, `--all-orgs`), the demo and the Dagster assets all
load through `run_load`, so each load is bounded by the same watchdog, recorded for `status`
the same way, followed by the same publish of the read copy (`load.publish`, still under the
lock), and never runs beside another load of the same pipeline.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import dlt

from armature_pipeline.load import last_run, leftovers, loader, publish
from armature_pipeline.load.lock import folder_lock
from armature_pipeline.load.outcome import Outcome
from armature_pipeline.output import logs, progress
from armature_pipeline.settings import EXIT_CONFIG, EXIT_FAILED, Settings, Terminated, UsageError
from armature_pipeline.warehouse.destination import make_pipeline, pipelines_root

log = logging.getLogger("armature_pipeline")

# time a load's resources get, after max_load_minutes, to finish the requests in flight and
# the destination to finish its step, before the process ends itself
WATCHDOG_GRACE_S = 300.0
T = TypeVar("T")


def run_load(settings: Settings, after: Callable[[dlt.Pipeline, Outcome], T] | None = None,
             ) -> tuple[dlt.Pipeline, Outcome, T | None]:
    """Load the pipeline of these settings once, holding its lock.

    Args:
        after: called with the pipeline and the outcome while the lock is still held (to read
            what the load wrote before another load may start); its result is returned.

    Raises:
        UsageError: bad configuration (exit 2, nothing written); LockedError: another run
            holds the pipeline's lock (exit 3).
    """
    root = pipelines_root(settings)
    working = root / settings.pipeline_name
    with logs.fields(pipeline=settings.pipeline_name), folder_lock(root, settings.pipeline_name):
        # before dlt reads the folder, and after a run that failed writing it (a full disk)
        leftovers.mend(working)
        try:
            return _load_held(settings, after)
        finally:
            leftovers.mend(working)


def _load_held(settings: Settings, after: Callable[[dlt.Pipeline, Outcome], T] | None,
               ) -> tuple[dlt.Pipeline, Outcome, T | None]:
    pipeline = make_pipeline(settings)
    where, name = pipeline.pipelines_dir, pipeline.pipeline_name
    last_run.began(where, name)  # a run killed before it can say how it ended reads as failed
    started = time.monotonic()
    pending = pipeline.has_pending_data  # an earlier run's packages, loaded first by this one
    try:
        config = loader.source_config(settings)
        with watchdog(config.max_load_minutes), progress.shown():
            outcome = loader.load(pipeline, settings, config)
        # a SIGTERM a library turned into an error of its own ends the run all the same
        Terminated.raise_if_asked()
        outcome.seconds = time.monotonic() - started
        last_run.record(where, name, outcome.code, outcome.message, outcome.seconds, outcome.load_ids,
                        outcome.rows)
        publish.after_load(pipeline, outcome, pending)
        Terminated.raise_if_asked()  # the publish says a failure and goes on; a SIGTERM ends the run
    except UsageError as exc:
        last_run.record(where, name, EXIT_CONFIG, str(exc), time.monotonic() - started)
        last_run.ended(where, name)
        raise
    except KeyboardInterrupt as exc:  # SIGTERM or Ctrl-C: the run ends, and says so
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        last_run.record(where, name, EXIT_FAILED, f"{how} during the load; nothing half-written is kept",
                        time.monotonic() - started)
        last_run.ended(where, name)
        raise
    result = after(pipeline, outcome) if after else None
    last_run.ended(where, name)
    return pipeline, outcome, result


@contextmanager
def watchdog(minutes: float) -> Iterator[None]:
    """End the process if a load outlives `max_load_minutes` by `WATCHDOG_GRACE_S`.

    The resources stop by themselves when the time is up; this is for a load stuck where they
    cannot look (a destination that hangs). Ending then is as safe as a kill: the next run
    completes the data. A cron line can never pile up behind a hung run.
    """
    limit = minutes * 60 + WATCHDOG_GRACE_S

    def give_up() -> None:
        log.error("the load is still running %.0f s after max_load_minutes (%g) ran out: ending "
                  "the process so the lock is free; the next run completes the data.",
                  WATCHDOG_GRACE_S, minutes)
        logging.shutdown()
        os._exit(EXIT_FAILED)

    timer = threading.Timer(limit, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
