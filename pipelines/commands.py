"""What each `armature-pipeline` command does; argument parsing lives in armature_pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import dlt
import duckdb
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed
from filelock import FileLock, Timeout

from analytics.views import apply_views, drop_views
from armature_source import RESOURCE_ALIASES, RESOURCES, armature_source
from armature_source.client import ArmatureClient
from armature_source.credentials import check_api_key, normalize_base_url
from armature_source.errors import ArmatureError, ConfigError
from pipelines.settings import (
    DEFAULT_NAME,
    DEMO_PIPELINE,
    EXIT_FAILED,
    EXIT_OK,
    LockedError,
    Settings,
    UsageError,
)
from pipelines import report
from pipelines.duckdb_names import qualify_catalog_when_it_shadows_the_dataset

log = logging.getLogger("armature_pipeline")


def resolve(args: argparse.Namespace, *, need_source: bool = True) -> Settings:
    """Flags win over ARMATURE_* environment variables, which win over dlt's config."""
    base_url = getattr(args, "base_url", None) or os.environ.get("ARMATURE_BASE_URL") \
        or _dlt_setting("sources.armature.base_url")
    api_key = getattr(args, "api_key", None) or os.environ.get("ARMATURE_API_KEY") \
        or _dlt_setting("sources.armature.api_key", secret=True)
    allow_http = bool(getattr(args, "allow_insecure_http", False))
    if need_source:
        try:
            normalize_base_url(base_url or "", allow_http)
            check_api_key(api_key)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    return Settings(
        base_url=base_url or "",
        api_key=api_key or "",
        destination=getattr(args, "destination", None) or "duckdb",
        dataset=getattr(args, "dataset", None) or DEFAULT_NAME,
        pipeline_name=getattr(args, "pipeline_name", None) or DEFAULT_NAME,
        resources=_resources(getattr(args, "resources", None)),
        full_refresh=bool(getattr(args, "full_refresh", False)),
        allow_http=allow_http,
        pipelines_dir=getattr(args, "pipelines_dir", None),
    )


def _dlt_setting(key: str, secret: bool = False) -> str | None:
    try:
        value: Any = (dlt.secrets if secret else dlt.config).get(key)
    except Exception:  # a malformed toml file is reported by dlt itself on load
        return None
    return str(value) if value else None


def _resources(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in RESOURCE_ALIASES]
    if unknown:
        raise UsageError(
            f"unknown resource(s) {', '.join(unknown)} in --resources; choose from "
            f"{', '.join(RESOURCES)} (or a table name such as trace_spans, session_events)."
        )
    return sorted({RESOURCE_ALIASES[n] for n in names}, key=RESOURCES.index)


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    qualify_catalog_when_it_shadows_the_dataset()
    destination: Any = settings.destination
    if settings.destination == "duckdb":
        path = os.environ.get("DESTINATION__DUCKDB__CREDENTIALS") or f"{DEFAULT_NAME}.duckdb"
        destination = duckdb_destination(path)
    try:
        return dlt.pipeline(
            pipeline_name=settings.pipeline_name,
            destination=destination,
            dataset_name=settings.dataset,
            pipelines_dir=settings.pipelines_dir,  # type: ignore[arg-type]  # None: dlt's default
        )
    except Exception as exc:  # an unknown destination name, a bad credentials string
        raise UsageError(f"cannot set up destination {settings.destination!r}: {exc}") from None


def duckdb_destination(path: str) -> Any:
    """DuckDB at `path`, its memory capped so a large merge spills to disk instead of RAM.

    Without a cap DuckDB's buffer pool grows with the data a load merges (about 0.85 GB at
    4,000 runs, 2.8 GB at 20,000); at 512 MB the peak stays near flat (0.53 GB at 4,000 runs,
    0.61 GB at 8,000). ARMATURE_DUCKDB_MEMORY_LIMIT overrides it (DuckDB syntax, e.g. 2GB).
    """
    # absolute: dlt otherwise reuses the path a pipeline of the same name used before, even
    # from another folder, instead of the current folder's file
    credentials = DuckDbCredentials(os.path.abspath(path))
    credentials.global_config = {
        **(credentials.global_config or {}),
        "memory_limit": os.environ.get("ARMATURE_DUCKDB_MEMORY_LIMIT", "512MB"),
    }
    return dlt.destinations.duckdb(credentials)


@contextmanager
def pipeline_lock(pipeline: dlt.Pipeline) -> Iterator[None]:
    """Hold a lock beside the pipeline's working folder; a second run exits 3 at once."""
    path = Path(pipeline.pipelines_dir) / f".{pipeline.pipeline_name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"another run of pipeline {pipeline.pipeline_name!r} is in progress (lock {path}). "
            "This run did nothing; the next scheduled run will pick up where that one ends."
        ) from None
    try:
        yield
    finally:
        lock.release()


def run(args: argparse.Namespace) -> int:
    settings = resolve(args)
    pipeline = make_pipeline(settings)
    with pipeline_lock(pipeline):
        return load(pipeline, settings)


def load(pipeline: dlt.Pipeline, settings: Settings) -> int:
    """Smoke-test the key, extract, normalize and load; print what landed."""
    try:
        with ArmatureClient(settings.base_url, settings.api_key, allow_http=settings.allow_http) as probe:
            probe.get("/org")
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except ArmatureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    check_destination(pipeline)
    try:
        wait_for_duckdb(pipeline, float(os.environ.get("ARMATURE_DUCKDB_WAIT_S", "30")))
    except HeldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    source = armature_source(
        base_url=settings.base_url,
        api_key=settings.api_key,
        allow_insecure_http=settings.allow_http,
    )
    if settings.resources:
        source = source.with_resources(*settings.resources)
    if settings.full_refresh:
        drop_views(pipeline)  # Postgres refuses to drop tables that views still read
    try:
        info = pipeline.run(source, refresh="drop_sources" if settings.full_refresh else None)  # type: ignore[arg-type]
    except PipelineStepFailed as exc:
        return _failed(exc)
    except ConfigFieldMissingException as exc:
        raise UsageError(str(exc)) from None
    report.after_load(pipeline, info)
    views = apply_views(pipeline)
    if views:
        print(f"Reporting views created or replaced: {', '.join(views)}.")
    return EXIT_OK


def _failed(exc: PipelineStepFailed) -> int:
    cause = _root(exc)
    if isinstance(cause, ConfigError):
        raise UsageError(str(cause))
    held = _duckdb_holder(str(cause))
    if held:
        cause = held  # type: ignore[assignment]
    print(f"error: the load failed at the {exc.step} step: {cause}", file=sys.stderr)
    print("Nothing half-written is kept; run the same command again to complete the data.",
          file=sys.stderr)
    return EXIT_FAILED


def _duckdb_holder(message: str) -> str | None:
    """Explain DuckDB's lock conflict: which process holds the file and what to do."""
    found = re.search(r'Could not set lock on file "([^"]+)": Conflicting lock is held in (.+?) \(PID (\d+)\)', message)
    if not found:
        return None
    path, program, pid = found.groups()
    return (
        f"the DuckDB file {path} is open in another process (PID {pid}, {program}), such as a "
        "notebook or a BI tool; DuckDB lets only one process write, and not while others read. "
        "Close that connection (readers should connect, query and disconnect), then run again"
    )


def wait_for_duckdb(pipeline: dlt.Pipeline, wait_s: float) -> None:
    """Wait up to `wait_s` for another process to let go of the DuckDB file, else explain."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    path = _duckdb_path(pipeline)
    if path is None or not Path(path).exists():
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            duckdb.connect(path).close()
            return
        except duckdb.IOException as exc:
            held = _duckdb_holder(str(exc))
            if held is None:
                raise
            if time.monotonic() >= deadline:
                raise HeldError(f"{held}. Nothing was loaded.") from None
            log.info("waiting for the DuckDB file: %s", held)
            time.sleep(1.0)


def _duckdb_path(pipeline: dlt.Pipeline) -> str | None:
    try:
        config: Any = pipeline.destination_client().config
        return str(config.credentials.database)
    except Exception:
        return None


def check_destination(pipeline: dlt.Pipeline) -> None:
    """Refuse, before anything is written, a DuckDB file whose folder is missing or read-only."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return
    path = _duckdb_path(pipeline)
    if path is None or path == ":memory:":
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(
            f"cannot write the DuckDB file {path}: its folder does not exist or is not "
            "writable. Set DESTINATION__DUCKDB__CREDENTIALS to a writable path, or run from a "
            "writable folder."
        )


class HeldError(Exception):
    """The destination file is held by another process."""


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


def status(args: argparse.Namespace) -> int:
    settings = resolve(args, need_source=False)
    pipeline = make_pipeline(settings)
    return report.status(pipeline)


def check(args: argparse.Namespace) -> int:
    from armature_source.contract_check import check_host

    settings = resolve(args)
    try:
        return check_host(settings.base_url, settings.api_key, settings.allow_http)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def demo(args: argparse.Namespace) -> int:
    from armature_sim.server import spawn

    print(f"Starting the Armature simulator ({args.runs} runs over 30 days) ...")
    with spawn(runs=args.runs, latency_ms=args.latency_ms) as sim:
        print(f"Simulator listening at {sim.api_url} (key {sim.api_key}).")
        settings = Settings(
            base_url=sim.api_url, api_key=sim.api_key, destination="duckdb",
            dataset=DEFAULT_NAME, pipeline_name=DEMO_PIPELINE, resources=None,
            full_refresh=True, allow_http=False, pipelines_dir=None,
        )
        pipeline = make_pipeline(settings)
        with pipeline_lock(pipeline):
            code = load(pipeline, settings)
    if code == EXIT_OK:
        report.demo_summary(pipeline)
    return code
