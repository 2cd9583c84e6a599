"""Durations on the command line (`--max-age 30m`) and in what the commands print."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(raw: str) -> float:
    """Seconds in `90s`, `30m`, `2h`, `1d`, `1w` or a sum of them (`1h30m`).

    Raises:
        ValueError: anything else, with the forms that work.
    """
    text = raw.strip().lower()
    parts = _PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{raw!r} is not a duration; write a number and a unit (s, m, h, d, w), "
                         "e.g. 30m, 2h, 1d or 1h30m")
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{raw!r} is not a duration longer than zero; e.g. 30m, 2h, 1d")
    return seconds


def describe_age(seconds: float) -> str:
    """`12 s`, `42 min`, `3 h 12 min`, `4 days`."""
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"
