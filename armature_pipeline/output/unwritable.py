"""A folder that cannot be written (read-only, full, not ours), said in one line naming it."""

from __future__ import annotations

import errno

FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
ERRNOS = FULL | {errno.EROFS, errno.EACCES, errno.EPERM}


def explain(exc: OSError, pipelines_dir: str | None = None) -> str:
    """What could not be written, why, and what to do."""
    from dlt.common.pipeline import get_dlt_pipelines_dir  # dlt is heavy: not for `--help`

    where = exc.filename or pipelines_dir or get_dlt_pipelines_dir()
    what = "is full" if exc.errno in FULL else "cannot be written"
    return (f"{where} {what} ({exc.strerror}). dlt keeps each pipeline's state and load packages "
            f"in its pipelines folder ({pipelines_dir or get_dlt_pipelines_dir()}): it must be "
            "writable, with room to spare. Free space or fix its permissions, or point DLT_DATA_DIR "
            "at another folder; the next run goes on from what the warehouse holds.")
