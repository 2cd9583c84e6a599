"""Timestamps as the host sends them, and as state keeps them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_ts(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (`Z`, any offset, milli- or microseconds) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


def try_ts(value: Any) -> datetime | None:
    """Like `parse_ts`, but None for a value that is not a timestamp (cursors must not fail)."""
    try:
        return parse_ts(value)
    except (TypeError, ValueError, OverflowError):
        return None


def iso(value: datetime | None) -> str | None:
    """UTC ISO text for state (JSON-safe)."""
    return value.astimezone(timezone.utc).isoformat() if value else None


def oldest(values: Any) -> datetime | None:
    """The earliest of some timestamp values, ignoring the missing ones."""
    stamps = [s for s in map(try_ts, values) if s is not None]
    return min(stamps, default=None)


def at_or_after(value: Any, instant: datetime) -> bool:
    """Whether a timestamp value is present and not before `instant`."""
    stamp = try_ts(value)
    return stamp is not None and stamp >= instant


def may_be_in_span(value: Any, since: datetime | None) -> bool:
    """Whether a record stamped `value` may fall in the span from `since` (None: all time).

    A stamp that cannot be read may: a record is never skipped for a time nobody can read.
    """
    stamp = try_ts(value)
    return since is None or stamp is None or stamp >= since
