"""One load of one pipeline, as the command, the demo and an orchestrator run it.

    open the source's load and ask GET /org (the key checked, nothing written yet) ->
    wait for the destination -> hold the warehouse and the state to one organization and one
    history (`agreement`) -> finish what an earlier run left pending ->
    extract, normalize, load -> column comments and reporting views

How a step's failure is told and what it leaves for the next run is `outcome.py`'s.
"""

from __future__ import annotations

import logging
import re

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

from armature_pipeline.config import duckdb_settings
from armature_pipeline.load.agreement import check_world
from armature_pipeline.load.outcome import Outcome, failed, finished
from armature_pipeline.load.refresh import full_refresh
from armature_pipeline.output import logs
from armature_pipeline.settings import EXIT_FAILED, Settings, UsageError
from armature_pipeline.transform.report import dbt_after_load
from armature_pipeline.warehouse.duckdb_file import HeldError, check_destination, wait_for_duckdb
from armature_source import RESOURCES, armature_source
from armature_source.config import ArmatureSourceConfiguration, resolve_source_config
from armature_source.errors import ArmatureError, ConfigError, HostUnreachable, TransientError
from armature_source.load.context import Load

log = logging.getLogger("armature_pipeline")

# errors that say our code is wrong, never that the destination is away
BUGS = (AttributeError, TypeError, NameError, LookupError, AssertionError)
PASSWORD_IN_URL = re.compile(r"://([^:/@\s]+):[^@\s]+@")
# a database server that answered and refused who or where: it will refuse again (Postgres' words)
REFUSED = re.compile(r"password authentication failed|(role|database) \".*\" does not exist|"
                     r"no pg_hba\.conf entry", re.IGNORECASE)


def load(pipeline: dlt.Pipeline, settings: Settings, config: ArmatureSourceConfiguration) -> Outcome:
    """Load once. Raises UsageError for what the user must fix (exit 2, nothing written)."""
    opened = Load(config, frozenset(RESOURCES))
    try:
        opened.organization()
    except HostUnreachable as exc:
        opened.close()
        if not _loaded_before(pipeline):  # a first run: most likely a wrong base URL
            raise UsageError(str(exc)) from None
        return Outcome(EXIT_FAILED, f"{exc} This pipeline has loaded from it before: the host may "
                                    "be down; the next run goes on where the last one ended.")
    except ConfigError as exc:
        opened.close()
        raise UsageError(str(exc)) from None
    except ArmatureError as exc:
        opened.close()
        return Outcome(EXIT_FAILED, str(exc), transient=isinstance(exc, TransientError))
    try:
        logs.stamp(organization=opened.organization().slug)
        outcome = _load(pipeline, settings, opened)
    finally:
        opened.close()  # the source closes it when its last resource ends; this is for the rest
    if settings.dbt and outcome.ok:
        outcome.dbt = dbt_after_load(pipeline)
    return outcome


def _load(pipeline: dlt.Pipeline, settings: Settings, opened: Load) -> Outcome:
    check_destination(pipeline)
    try:
        wait_for_duckdb(pipeline, duckdb_settings().wait_s or 0.0)
    except HeldError as exc:
        return Outcome(EXIT_FAILED, str(exc))
    try:
        check_world(pipeline, opened.organization())
    except (UsageError, OSError, *BUGS):
        raise  # what to fix, a full disk, or a bug of ours: each is told as such
    except Exception as exc:  # the destination could not be reached or read: nothing written
        log.debug("the world check failed", exc_info=True)
        if REFUSED.search(str(exc)):  # it answered, and said no to who or where: a setting to fix
            raise UsageError(_unreachable(pipeline, exc, refused=True)) from None
        return Outcome(EXIT_FAILED, _unreachable(pipeline, exc), transient=True)
    pending = finish_pending(pipeline)
    if pending is not None:
        return pending
    source: DltSource = armature_source(config=opened.config, load=opened)
    if settings.resources:
        source = source.with_resources(*settings.resources)
    if settings.full_refresh:
        return full_refresh(pipeline, source)
    try:
        info = pipeline.run(source)
    except PipelineStepFailed as exc:
        return failed(pipeline, exc)
    return finished(pipeline, info)


def _unreachable(pipeline: dlt.Pipeline, exc: Exception, refused: bool = False) -> str:
    """What to say when the destination cannot be asked before the load; a password in a
    connection string the driver repeats is masked."""
    name = pipeline.destination.destination_name if pipeline.destination else "?"
    said = PASSWORD_IN_URL.sub(r"://\1:***@", str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    where = (f"[destination.{name}.credentials] in .dlt/secrets.toml, or DESTINATION__{name.upper()}"
             "__CREDENTIALS")
    if refused:
        return (f"the destination ({name}) refused the connection before the load ({type(exc).__name__}: "
                f"{said}). Nothing was loaded. Fix its user, password or database in {where}.")
    return (f"the destination ({name}) could not be reached or read before the load "
            f"({type(exc).__name__}: {said}). Nothing was loaded. Check that it is up and its "
            f"credentials ({where}); the next run goes on where the last one ended.")


def _loaded_before(pipeline: dlt.Pipeline) -> bool:
    return bool(pipeline.state.get("sources", {}).get("armature"))


def source_config(settings: Settings) -> ArmatureSourceConfiguration:
    """The source's settings, resolved once: flags first, then dlt's config."""
    try:
        return resolve_source_config(**settings.source_args)
    except (ConfigError, ConfigFieldMissingException) as exc:
        raise UsageError(str(exc)) from None


def finish_pending(pipeline: dlt.Pipeline) -> Outcome | None:
    """Load what an earlier run extracted but did not finish; None when nothing is left.

    A package the destination refuses is set aside (see `outcome.set_aside`) so this run goes on.
    """
    if not pipeline.has_pending_data:
        return None
    log.info("an earlier run left load packages pending: loading them first")
    try:
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as exc:
        outcome = failed(pipeline, exc)
        if pipeline.has_pending_data:  # transient: kept for the next run
            return outcome
        log.warning("%s; this run goes on with fresh data", outcome.message)
    return None
