"""A DuckDB file another process holds: who holds it, waiting for it, and saying so.

DuckDB lets one process write a file, and not while another has it open, even read-only. The
loader waits for a reader to let go (`armature_pipeline.warehouse.duckdb_file`), a reader for a
loader (`armature_analytics.reader`, with read copies off): both through `while_held`, which
says the wait once, then every 10 s, and gives up with DuckDB's message explained.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta
from typing import Callable, TypeVar

import duckdb

# a child of the command line's logger, so that its lines reach the command's handlers
log = logging.getLogger("armature_pipeline.duckdb")

HELD = re.compile(r'Could not set lock on file "([^"]+)"(?:: Conflicting lock is held in (.+?) \(PID (\d+)\))?')
POLL_S = 0.2
WAIT_EVERY_S = 10.0
T = TypeVar("T")


def holder(message: str) -> str | None:
    """Who holds the file, from DuckDB's lock conflict: `process 123 (python)`, else
    `another process`; None when the message is not about a held file."""
    found = HELD.search(message)
    if not found:
        return None
    _path, program, pid = found.groups()
    return f"process {pid} ({program})" if pid else "another process"


def holder_of(message: str) -> str | None:
    """Explain DuckDB's lock conflict to a loader: which process holds the file, what to do."""
    found = HELD.search(message)
    if not found:
        return None
    path, program, pid = found.groups()
    who = f"another process ({program}, PID {pid})" if pid else "another process"
    return (
        f"the DuckDB file {path} is open in {who}, such as a notebook or a BI tool; DuckDB lets "
        "only one process write, and not while others read. Close that connection (readers "
        "should connect, query and disconnect, or read the read copy), then run again"
    )


def while_held(attempt: Callable[[], T], wait_s: float,
               give_up: Callable[[duckdb.IOException, str], BaseException]) -> T:
    """`attempt()`, tried again while another process holds the DuckDB file, for at most
    `wait_s`; the wait is said once, then every 10 s. Then `give_up(error, explanation)` is
    raised. Another error is raised as it is."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return attempt()
        except duckdb.IOException as exc:
            held = holder_of(str(exc))
            if held is None:
                raise
            if time.monotonic() >= deadline:
                raise give_up(exc, held) from None
            waiting(log, "the DuckDB file", deadline, held)
            time.sleep(POLL_S)


_waits: dict[tuple[str, float], list[float]] = {}


def waiting(logger: logging.Logger, what: str, deadline: float, why: str = "",
            every_s: float = WAIT_EVERY_S) -> None:
    """Say that this process waits for `what` until `deadline` (a `time.monotonic()`), at most
    once every `every_s` seconds: first why, then how long so far and until when."""
    now = time.monotonic()
    seen = _waits.setdefault((what, deadline), [now, float("-inf")])
    if now - seen[1] < every_s:
        return
    seen[1] = now
    left = max(deadline - now, 0.0)
    until = (datetime.now().astimezone() + timedelta(seconds=left)).isoformat(timespec="seconds")
    waited = now - seen[0]
    if waited < every_s:
        logger.info("waiting for %s, at most %.0f s (until %s)%s", what, left, until,
                    f": {why}" if why else "", extra={"waited_s": 0, "until": until})
    else:
        logger.info("still waiting for %s: %.0f s so far, until %s", what, waited, until,
                    extra={"waited_s": round(waited), "until": until})
