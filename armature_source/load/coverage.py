"""Coverage gaps: what the API could not serve, warned about and kept in `coverage_gaps`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterator

from armature_source import tables as t
from armature_source.load.columns import routed
from armature_source.load.state import source_state
from armature_source.load.windows import Window
from armature_source.timestamps import iso

log = logging.getLogger("armature_source")
KEPT_IN_STATE = 100
NO_RANGE = "-"  # the `range` of a gap that is not about a window (part of the table's key)


def record_gap(entry: dict[str, Any]) -> Iterator[Any]:
    """Warn about a coverage gap, route it to its table, and (once delivered) keep it in the
    source state for `status`."""
    log.warning("coverage gap: %s", entry["message"])
    yield routed(t.COVERAGE, [entry])
    kept = source_state().setdefault("coverage", [])
    kept.append(entry)
    del kept[:-KEPT_IN_STATE]


def window_gap(resource: str, window: Window, now: datetime) -> dict[str, Any]:
    """A coverage entry for a window that could not reach back far enough."""
    assert window.gap is not None
    start, end = window.gap
    return {
        "resource": resource,
        "kind": "window_gap",
        "range": window.range,
        "detected_at": iso(now),
        "missing_from": iso(start),
        "missing_to": iso(end),
        "missing_count": None,
        "message": (
            f"{resource}: the last load reached {iso(start)}, but the API serves only "
            f"{window.range} back from now ({iso(end)}); anything between was not readable."
        ),
    }


def limit_cut(resource: str, range_: str, now: datetime, listed: int, total: int | None) -> dict[str, Any]:
    """A coverage entry for a list that came back cut at its limit."""
    missing = None if total is None else max(total - listed, 0)
    beyond = f"{missing} more exist in that range" if missing is not None else "more may exist"
    return {
        "resource": resource,
        "kind": "limit_cut",
        "range": range_,
        "detected_at": iso(now),
        "missing_from": None,
        "missing_to": None,
        "missing_count": missing,
        "message": (
            f"{resource}: the {range_} list came back cut at its limit of {listed}; {beyond} "
            "and cannot be read for that window (the API has no paging for it)."
        ),
    }


def children_unavailable(
    resource: str, lacking: dict[str, list[str]], waited: timedelta, now: datetime
) -> dict[str, Any]:
    """A coverage entry for records (runs, sessions) whose children the host never served."""
    shown = "; ".join(f"{key} ({', '.join(kinds)})" for key, kinds in list(lacking.items())[:5])
    more = f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
    what = "terminal runs" if resource == "runs" else resource
    return {
        "resource": resource,
        "kind": "children_unavailable",
        "range": NO_RANGE,
        "detected_at": iso(now),
        "missing_from": None,
        "missing_to": None,
        "missing_count": len(lacking),
        "message": (
            f"{resource}: {len(lacking)} {what} still lack children after asking for "
            f"{waited} ({shown}{more}); their rows are loaded, those children are not."
        ),
    }
