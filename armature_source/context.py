"""What the resources of one load share: the client, the settings, and the host's now."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from armature_source.client import ArmatureClient
from armature_source.errors import FeatureDisabledError

log = logging.getLogger("armature_source")


@dataclass
class Load:
    """One load's client and settings, and whether MCP Analytics proved to be off."""

    client: ArmatureClient
    lookback: timedelta
    session_limit: int
    list_limit: int
    insight_ranges: tuple[str, ...]
    insights_off: bool = False
    _now: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
