"""Every setting of the source, resolved once, the dlt way: section `sources.armature`.

A setting comes from the argument itself, then `SOURCES__ARMATURE__<NAME>`, then
`[sources.armature]` in `.dlt/secrets.toml` / `.dlt/config.toml` (dlt's order); the base URL
and the key fall back to `ARMATURE_BASE_URL` / `ARMATURE_API_KEY` last. The source resolves
this spec when it is created (`@dlt.source(spec=...)`), and the command resolves the same spec
with its flags as explicit values, so both read every setting the same way. Every value is
checked as it is resolved: a bad one raises `ConfigError` naming the setting and where to set it.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Optional, Sequence

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from armature_source.credentials import Connection
from armature_source.errors import ConfigError
from armature_source.http.client import DEFAULT_DEADLINE_S, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT
from armature_source.http.retry import RetryPolicy
from armature_source.timestamps import try_ts
from armature_source.vocabulary import INSIGHT_RANGES, RANKED_LIST_LIMIT, SESSION_LIST_LIMIT

SECTIONS = ("sources", "armature")
URL_ENV, KEY_ENV = "ARMATURE_BASE_URL", "ARMATURE_API_KEY"


@configspec
class ArmatureSourceConfiguration(BaseConfiguration):
    """The source's settings; see the README's list for what each one does."""

    base_url: Optional[str] = None
    api_key: Optional[TSecretStrValue] = None
    allow_insecure_http: bool = False
    lookback_minutes: int = 60
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    insight_ranges: Sequence[str] = tuple(INSIGHT_RANGES)
    session_limit: int = SESSION_LIST_LIMIT
    list_limit: int = RANKED_LIST_LIMIT
    retry_budget_s: float = RetryPolicy.budget_s
    max_attempts: int = RetryPolicy.max_attempts
    timeout_s: float = 60.0
    request_deadline_s: float = DEFAULT_DEADLINE_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    children_retry_hours: float = 24.0
    # a cron line every 15 minutes can then never pile up behind a hung load for long
    max_load_minutes: float = 60.0
    # a backfill of runs started in [start_date, end_date), the cursors left alone (dlt's
    # initial_value / end_value idiom, as dlt's verified sources spell it)
    start_date: Optional[str] = None
    end_date: Optional[str] = None

    def on_resolved(self) -> None:
        self.base_url = self.base_url or os.environ.get(URL_ENV) or None
        self.api_key = self.api_key or os.environ.get(KEY_ENV) or None
        self._connection = Connection.checked(self.base_url, self.api_key, self.allow_insecure_http)
        self.insight_ranges = _ranges(self.insight_ranges)
        for name in ("max_load_minutes", "max_in_flight", "timeout_s", "request_deadline_s",
                     "max_body_bytes", "max_attempts", "session_limit", "list_limit"):
            _positive(name, getattr(self, name))
        for name in ("lookback_minutes", "retry_budget_s", "children_retry_hours"):
            _positive(name, getattr(self, name), zero_ok=True)
        start, end = _instant("start_date", self.start_date), _instant("end_date", self.end_date)
        if start and end and end <= start:
            raise ConfigError(f"end_date ({self.end_date}) is not after start_date ({self.start_date}); "
                              "a sub-range runs from start_date up to, not including, end_date.")
        self._range = (start, end)

    @property
    def connection(self) -> Connection:
        """The checked REST base and key (checked once, when the settings were resolved)."""
        return self._connection

    @property
    def sub_range(self) -> tuple[datetime | None, datetime | None] | None:
        """(start, end) of the runs to backfill, when one of them was given; else None."""
        start, end = self._range
        return (start, end) if start or end else None

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, budget_s=self.retry_budget_s)


def resolve_source_config(**explicit: object) -> ArmatureSourceConfiguration:
    """The source's settings as the source itself resolves them, `explicit` values first.

    Raises:
        ConfigError: a value is missing or wrong (the message names it and where to set it).
    """
    given = {name: value for name, value in explicit.items() if value is not None}
    return resolve_configuration(ArmatureSourceConfiguration(), sections=SECTIONS, explicit_value=given)


def _ranges(ranges: Sequence[str]) -> tuple[str, ...]:
    """The insight ranges, narrow to wide; an unknown one is refused."""
    listed = [ranges] if isinstance(ranges, str) else list(ranges)
    unknown = [r for r in listed if r not in INSIGHT_RANGES]
    if unknown or not listed:
        raise ConfigError(f"insight_ranges has {unknown or 'nothing'}; allowed are "
                          f"{list(INSIGHT_RANGES)} ([sources.armature] insight_ranges).")
    return tuple(sorted(set(listed), key=lambda r: INSIGHT_RANGES[r]))


def _instant(name: str, value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    stamp = try_ts(value)
    if stamp is None:
        raise ConfigError(f"{name} is {value!r}, not an ISO 8601 instant (e.g. 2026-11-01 or "
                          f"2026-11-01T00:00:00Z); [sources.armature] {name} or the argument {name}=.")
    return stamp


def _positive(name: str, value: float, zero_ok: bool = False) -> None:
    if isinstance(value, bool) or not (value >= 0 if zero_ok else value > 0):
        above = "0 or more" if zero_ok else "above 0"
        raise ConfigError(f"{name} is {value!r}; it must be a number {above} "
                          f"([sources.armature] {name} in .dlt/config.toml, or "
                          f"SOURCES__ARMATURE__{name.upper()}).")
