"""What the resources of one load share: the client, the settings, and the host's now.

The client is opened when the first resource of a load starts and closed when the last of the
load's selected resources ends (finished, failed, or closed early by `add_limit`), so a source
that is created and never run opens nothing, and a run leaves no connection or thread behind.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator

import dlt

from armature_source.client import ArmatureClient
from armature_source.errors import FeatureDisabledError

log = logging.getLogger("armature_source")


class _JsonAsTextNotice(logging.Filter):
    """Drops dlt's notice that an Arrow string column is hinted `json` in our resources: that
    is by design (Arrow has no JSON type dlt accepts; the destination casts the text)."""

    def __init__(self, resources: frozenset[str]) -> None:
        super().__init__()
        self.resources = resources

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "when merging arrow schema" not in text:
            return True
        return not any(f"In resource: {name}," in text for name in self.resources)


@dataclass
class Load:
    """One load's client and settings, and whether MCP Analytics proved to be off."""

    open_client: Callable[[], ArmatureClient]
    lookback: timedelta
    session_limit: int
    list_limit: int
    insight_ranges: tuple[str, ...]
    children_retry: timedelta
    resource_names: frozenset[str]
    insights_off: bool = False
    _client: ArmatureClient | None = None
    _now: datetime | None = None
    _running: set[str] = field(default_factory=set)
    _expected: set[str] = field(default_factory=set)
    _notice: _JsonAsTextNotice | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def client(self) -> ArmatureClient:
        with self._lock:
            if self._client is None:
                self._client = self.open_client()
            return self._client

    @contextmanager
    def running(self, resource: str) -> Iterator[None]:
        """Bracket one resource's generator; the last selected resource to end closes the load."""
        with self._lock:
            if not self._running and not self._expected:
                self._begin()
            self._running.add(resource)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(resource)
                self._expected.discard(resource)
                if not self._running and not self._expected:
                    self._end()

    def _begin(self) -> None:
        try:  # the resources of this source that the current extract will run
            selected = dlt.current.source().selected_resources
            self._expected = set(selected) & self.resource_names
        except Exception:  # a resource extracted on its own, outside its source
            self._expected = set()
        self._notice = _JsonAsTextNotice(self.resource_names)
        logging.getLogger("dlt").addFilter(self._notice)

    def _end(self) -> None:
        if self._notice is not None:
            logging.getLogger("dlt").removeFilter(self._notice)
            self._notice = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self._now = None
        self.insights_off = False

    def now(self) -> datetime:
        """The host's clock at the start of this load, to the second; one value per load."""
        with self._lock:
            if self._now is None:
                self._now = self.client.server_now().replace(microsecond=0)
            return self._now

    def disable_insights(self, exc: FeatureDisabledError) -> None:
        """Warn once per load that MCP Analytics is off; later insights resources skip."""
        with self._lock:
            if self.insights_off:
                return
            self.insights_off = True
        log.warning(
            "MCP Analytics is not enabled for this organization (%s). Skipping the insights "
            "resources (overview, topics, failed searches, sessions); everything else loads. "
            "Enable MCP Analytics in Armature, or leave them out with --resources.",
            exc,
        )

    def insights_on(self, resource: str) -> bool:
        """Whether an insights resource should run (False once MCP Analytics proved off)."""
        if self.insights_off:
            log.info("%s: skipped, insights are off for this organization", resource)
        return not self.insights_off
