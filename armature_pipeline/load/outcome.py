"""How a load ended, and what a failed step means for the next run.

A failed load never jams the next one. A failure at the load step is classified: transient
(the destination unreachable, a file lock, a timeout) keeps the package, which the next run
loads first; terminal (the destination refuses the data) sets the package aside with its
data kept for inspection, rolls the pipeline's state back to before it (its cursors were never
delivered), and the next run extracts that data again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.pipeline.exceptions import PipelineStepFailed

from armature_analytics.held_file import holder_of
from armature_pipeline.load import derived
from armature_pipeline.output import unwritable
from armature_pipeline.settings import EXIT_FAILED, EXIT_OK, UsageError
from armature_source import tables as t
from armature_source.errors import ArmatureError, ConfigError, TransientError

log = logging.getLogger("armature_pipeline")

# words of an error that will come back with the same data, whatever dlt called it
RECURRING_WORDS = ("tables can have at most", "too many columns", "value too long", "out of range",
                   "invalid input syntax", "violates not-null")
# a package that failed this many runs in a row is set aside, whatever its error said
MAX_PACKAGE_TRIES = 3
TRIES_FILE = "armature_package_tries.json"


@dataclass
class Outcome:
    """How a load ended: the exit code, one line saying so, and what landed."""

    code: int
    message: str
    load_ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    gaps: int = 0
    rejected: int = 0
    stopped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # whether running again soon may succeed (the host or the file was busy, time ran out),
    # as opposed to a failure that needs someone first (data refused, a role missing)
    transient: bool = True
    # what the dbt package did after the load (`run --dbt`), when asked
    dbt: Any = None

    @property
    def ok(self) -> bool:
        return self.code == EXIT_OK


def failed(pipeline: dlt.Pipeline, exc: PipelineStepFailed) -> Outcome:
    """Classify a failed step, set a refused package aside, and say exactly what was kept."""
    cause = _root(exc)
    if isinstance(cause, ConfigError):
        raise UsageError(str(cause))
    if isinstance(cause, KeyboardInterrupt):  # SIGTERM or Ctrl-C inside a step: the run ends
        raise cause
    reason = holder_of(str(cause)) or f"{type(cause).__name__}: {cause}"
    if isinstance(cause, OSError) and cause.errno in unwritable.ERRNOS:
        reason = unwritable.explain(cause, pipeline.pipelines_dir)
    if exc.step in ("load", "normalize") and pipeline.has_pending_data:
        tries = _failed_again(pipeline)
        if is_terminal(exc) or tries >= MAX_PACKAGE_TRIES:
            if tries >= MAX_PACKAGE_TRIES and not is_terminal(exc):
                reason += f"; the same package failed {tries} runs in a row, so it would again"
            where = set_aside(pipeline)
            return Outcome(EXIT_FAILED, (
                f"the destination refused the data at the {exc.step} step ({reason}). The load "
                f"package was set aside with its data for inspection at {where}; the cursors it "
                "carried were rolled back, so the next run extracts that data again."
            ), transient=False)
        return Outcome(EXIT_FAILED, (
            f"the {exc.step} step failed ({reason}). The load package is kept; the next run "
            "loads it first, then reads what is new."
        ))
    return Outcome(EXIT_FAILED, (
        f"the load failed at the {exc.step} step ({reason}). Nothing was written and the "
        "cursors did not move; run the same command again to complete the data."
    ), transient=not isinstance(cause, ArmatureError) or isinstance(cause, TransientError))


def is_terminal(exc: BaseException) -> bool:
    """Whether the destination refused the data for good: dlt said so (whatever the error's
    words), or the error says the data cannot fit; not a connection or a lock."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DestinationTerminalException):
            return True
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, PipelineStepFailed) and exc.step == "normalize":
        return True
    text = str(_root(exc)).lower()
    if any(word in text for word in RECURRING_WORDS):
        return True
    return False


def _failed_again(pipeline: dlt.Pipeline) -> int:
    """How many runs in a row the oldest pending package has failed, this one counted.

    A transient error that comes back on the same package every run (DuckDB out of memory
    on it, a server that drops the connection on it) is not transient: after
    `MAX_PACKAGE_TRIES` the package is set aside like a refused one.
    """
    pending = sorted([*pipeline.list_normalized_load_packages(), *pipeline.list_extracted_load_packages()])
    if not pending:
        return 0
    path = Path(pipeline.working_dir) / TRIES_FILE
    try:
        tries: dict[str, int] = json.loads(path.read_text())
    except (OSError, ValueError):
        tries = {}
    count = tries.get(pending[0], 0) + 1
    path.write_text(json.dumps({pending[0]: count}))
    return count


def set_aside(pipeline: dlt.Pipeline) -> Path:
    """Abort the pending packages (dlt restores the state from before them); return where
    the refused package's data stays."""
    pending = list(pipeline.list_normalized_load_packages()) or list(pipeline.list_extracted_load_packages())
    pipeline.abort_packages()
    if pipeline.has_pending_data:  # dlt finishes an abort on the next load()
        pipeline.load()
    load_id = pending[0] if pending else "?"
    return Path(pipeline.working_dir) / "load" / "loaded" / load_id


def finished(pipeline: dlt.Pipeline, info: Any) -> Outcome:
    """After a successful load: comments and views (`derived`), and what landed, from the load's own
    ledger rows. A load stopped by `max_load_minutes` kept what it completed, but fails."""
    trace = pipeline.last_trace
    rows: dict[str, int] = {}
    if trace and trace.last_normalize_info:
        rows = {n: c for n, c in trace.last_normalize_info.row_counts.items() if not n.startswith("_dlt")}
    views = derived.apply(pipeline, rows)
    loads = list(info.loads_ids)
    stopped = _ledger_notes(pipeline, loads)
    outcome = Outcome(EXIT_OK, f"loaded {sum(rows.values())} new or changed rows", loads, rows,
                      views, rows.get(t.COVERAGE.name, 0), rows.get(t.REJECTED.name, 0), stopped)
    if stopped:
        outcome.code = EXIT_FAILED
        outcome.message = (f"the load ran out of time (max_load_minutes) and stopped: "
                           f"{'; '.join(stopped)}. What it loaded is kept; the next run goes on.")
    return outcome


def _ledger_notes(pipeline: dlt.Pipeline, load_ids: list[str]) -> list[str]:
    """The messages of this load's ledger rows whose resource stopped early."""
    if not load_ids:
        return []
    try:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(t.LOAD_LEDGER.name)
            marks = ", ".join(["%s"] * len(load_ids))
            found = client.execute_sql(
                f"select resource, message from {table} where status = 'stopped' and load_id in ({marks})",
                *load_ids) or []
    except Exception:  # a destination without SQL (files): the log said it
        return []
    return [f"{resource}: {message}" for resource, message in found]


def _root(exc: BaseException) -> BaseException:
    """The innermost ArmatureError behind dlt's wrappers, else the innermost cause."""
    seen: BaseException | None = exc
    innermost = exc
    while seen is not None:
        if isinstance(seen, ArmatureError):
            return seen
        innermost = seen
        seen = seen.__cause__ or seen.__context__
    return innermost
