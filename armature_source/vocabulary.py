"""What the source knows of Armature's API, stated once: prefix, ranges, statuses, limits.

Everything here is either documented (FACTS.md) or the contract's assumption (CONTRACT.md);
the rest of the package imports it rather than spelling a value again.
"""

from __future__ import annotations

from datetime import timedelta

API_PREFIX = "/api/armature/v1"

# `range` is a rolling window back from the host's now; /runs knows no 90d.
RUN_RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
INSIGHT_RANGES: dict[str, timedelta] = {**RUN_RANGES, "90d": timedelta(days=90)}

# Statuses a run may leave; any other status (documented or not) counts as terminal.
OPEN_STATUSES = frozenset({"pending", "running", "queued"})
# Runs the judge evaluated: only these have an evaluation.
VERDICT_STATUSES = frozenset({"pass", "partial", "fail"})
# Every status a run is documented to have: open, judged, or ended without a verdict.
RUN_STATUSES = (*sorted(OPEN_STATUSES), *sorted(VERDICT_STATUSES), "error", "timed_out")

RUNS_PAGE_SIZE = 100  # the documented maximum of `pageSize`
SESSION_LIST_LIMIT = 100  # the host caps the sessions `limit` here
RANKED_LIST_LIMIT = 200  # ... and the topics / failed-searches `limit` here
