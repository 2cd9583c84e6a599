"""One run of a pipeline at a time: a lock file beside the pipeline's working folder."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dlt
from filelock import FileLock, Timeout

from armature_pipeline.settings import LockedError


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
