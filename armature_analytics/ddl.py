"""DDL after a load, bounded: a BI reader that holds a lock never makes a load wait for ever.

On Postgres, `create or replace view` and `comment on` wait for every lock on the relation, and
a BI connection left idle in a transaction holds one until it is closed. Each statement here
runs under `lock_timeout` (`LOCK_TIMEOUT_S`); one that times out is skipped with a warning
saying who to look for, the load itself stands, and the next load tries again. DuckDB takes no
such locks between the readers of one file (the file lock is the loader's, `warehouse`).
"""

from __future__ import annotations

import logging
from typing import Any

LOCK_TIMEOUT_S = 10
LOCKING_DIALECTS = frozenset({"postgres", "redshift"})

log = logging.getLogger("armature_pipeline.views")


def bound(client: Any, dialect: str) -> None:
    """Put the session of `client` under the lock timeout, where the destination locks."""
    if dialect in LOCKING_DIALECTS:
        client.execute_sql(f"set lock_timeout = '{LOCK_TIMEOUT_S}s'")


def timed_out(exc: BaseException) -> bool:
    """Whether a statement failed because a lock was not granted within the timeout."""
    return "lock timeout" in str(exc).lower() or "locknotavailable" in type(exc).__name__.lower()


def skipped(what: str, exc: BaseException) -> None:
    log.warning("%s left as it was: a lock on it was not granted within %d s (a reader, such as a "
                "BI tool, idle in a transaction?). The load is kept; the next load tries again.",
                what, LOCK_TIMEOUT_S)
