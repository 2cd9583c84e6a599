"""One run of a pipeline at a time: a lock file beside the pipeline's working folder."""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterator

import dlt
from filelock import FileLock, Timeout

from armature_pipeline.settings import LockedError


def lock_path(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f".{pipeline_name}.lock"


def pipeline_lock(pipeline: dlt.Pipeline) -> AbstractContextManager[None]:
    """Hold a lock beside the pipeline's working folder; a second run exits 3 at once."""
    return folder_lock(pipeline.pipelines_dir, pipeline.pipeline_name)


@contextmanager
def folder_lock(pipelines_dir: str | Path, pipeline_name: str) -> Iterator[None]:
    """The same lock, by the folder and name alone: held before the pipeline is made."""
    path = lock_path(pipelines_dir, pipeline_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"another run of pipeline {pipeline_name!r} is in progress (lock {path}). "
            "This run did nothing; the next scheduled run will pick up where that one ends."
        ) from None
    try:
        yield
    finally:
        lock.release()


def is_held(pipelines_dir: str | Path, pipeline_name: str) -> bool:
    """Whether a run of the pipeline holds its lock.

    Taken and given back at once when free: a load starting in those microseconds would
    find it taken and exit 3 (another run in progress), never half-load.
    """
    path = lock_path(pipelines_dir, pipeline_name)
    if not path.exists():
        return False
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False
