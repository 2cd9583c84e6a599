"""What the resources of one load share: the client, the settings, the organization, and
the host's now.

The client is opened when the load first needs it (the command's pre-flight check, or the
first resource that starts) and closed when the last of the load's selected resources ends
(finished, failed, or closed early by `add_limit`), or by `close`; so a source that is created
and never run opens nothing, and a run leaves no connection or thread behind. `GET /org` is
asked once per load: it checks the key, names the organization, and its `Date` header starts
the host's clock.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import dlt

from armature_source import endpoints as api
from armature_source.config import ArmatureSourceConfiguration
from armature_source.errors import ArmatureError, ContractError, FeatureDisabledError, OrganizationMismatch
from armature_source.http.client import ArmatureClient
from armature_source.http.paging import pick_rows
from armature_source.load.state import source_state
from armature_source.load.windows import FUTURE_TOLERANCE
from armature_source.timestamps import iso, try_ts
from armature_source.vocabulary import RUNS_PAGE_SIZE

log = logging.getLogger("armature_source")

# how far the host's Date header may be from the local clock and still be taken as it is
CLOCK_AGREEMENT = timedelta(minutes=15)


@dataclass(frozen=True)
class Organization:
    """What `GET /org` says: the organization, and the role of the key that reads it."""

    body: dict[str, Any]
    actor: dict[str, Any]

    @classmethod
    def of(cls, answer: Any) -> "Organization":
        if not isinstance(answer, dict):
            raise ContractError(f"GET /org answered {type(answer).__name__}; expected a JSON object.")
        org, actor = answer.get("organization") or answer, answer.get("actor")
        return cls(org if isinstance(org, dict) else {}, actor if isinstance(actor, dict) else {})

    @property
    def id(self) -> str | None:
        value = self.body.get("id")
        return None if value is None else str(value)

    @property
    def slug(self) -> str | None:
        return self.body.get("slug")

    @property
    def role(self) -> str | None:
        return self.actor.get("role")

    def row(self) -> dict[str, Any]:
        """The `organization` table's row."""
        return {**self.body, "actor_role": self.role, "actor_api_key_name": self.actor.get("api_key_name")}


class _JsonAsTextNotice(logging.Filter):
    """Drops dlt's notice that an Arrow string column is hinted `json` in our resources: that
    is by design (Arrow has no JSON type dlt accepts; the destination casts the text).

    Installed once on dlt's logger when the first load of the process begins, and left there:
    dlt logs the notice when it merges an item's table, which in a parallel extract can come
    after the resource that yielded it has ended. It drops that notice only, and only for
    the resources of this source.
    """

    def __init__(self) -> None:
        super().__init__("armature-json-as-text")
        self.resources: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "when merging arrow schema" not in text:
            return True
        return not any(f"In resource: {name}," in text for name in self.resources)


_NOTICE = _JsonAsTextNotice()
_NOTICE_LOCK = threading.Lock()


def _drop_json_as_text_notices(resources: frozenset[str]) -> None:
    with _NOTICE_LOCK:
        _NOTICE.resources.update(resources)
        dlt_log = logging.getLogger("dlt")
        if _NOTICE not in dlt_log.filters:
            dlt_log.addFilter(_NOTICE)


class Load:
    """One load's settings, client and organization, and whether MCP Analytics proved off."""

    def __init__(self, config: ArmatureSourceConfiguration, resource_names: frozenset[str]) -> None:
        self.config = config
        self.resource_names = resource_names
        self.lookback = timedelta(minutes=config.lookback_minutes)
        self.children_retry = timedelta(hours=config.children_retry_hours)
        self.deadline_s = config.max_load_minutes * 60
        self.insights_off = False
        self.clock_trusted = True
        self.batch_limits: dict[str, int] = {}  # resource -> batches asked for (add_limit)
        self._started: float | None = None
        self._client: ArmatureClient | None = None
        self._org: Organization | None = None
        self._now: datetime | None = None
        self._running: set[str] = set()
        self._expected: set[str] = set()
        self._lock = threading.RLock()

    @property
    def client(self) -> ArmatureClient:
        with self._lock:
            if self._client is None:
                config = self.config
                self._client = ArmatureClient(
                    config.connection, max_in_flight=config.max_in_flight, timeout_s=config.timeout_s,
                    retry=config.retry, request_deadline_s=config.request_deadline_s,
                    max_body_bytes=config.max_body_bytes)
            return self._client

    def organization(self) -> Organization:
        """`GET /org`, asked once per load.

        Raises:
            AuthError: the key was rejected; ConfigError: the host cannot be reached at all;
            TransientError, ApiError, ContractError: the host answered, but not usably.
        """
        with self._lock:
            if self._org is None:
                self._org = Organization.of(self.client.get(api.ORG.path()))
            return self._org

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
                    self.close()

    def out_of_time(self) -> bool:
        """Whether this load has used up `max_load_minutes`: resources stop at the next
        point where what they delivered is complete, and say so."""
        if self.deadline_s is None or self._started is None:
            return False
        return time.monotonic() - self._started >= self.deadline_s

    def _begin(self) -> None:
        self._started = time.monotonic()
        self._same_organization()
        try:  # the resources of this source that the current extract will run
            selected = dlt.current.source().selected_resources
            self._expected = set(selected) & self.resource_names
        except Exception:  # a resource extracted on its own, outside its source
            self._expected = set()
        _drop_json_as_text_notices(self.resource_names)

    def _same_organization(self) -> None:
        """Refuse a key that answers for another organization than the one whose data this
        pipeline's state (kept with the warehouse) speaks of; remember it on the first load.

        Raises:
            OrganizationMismatch: before anything of this load is extracted.
        """
        org = self.organization()
        state = source_state()
        known = state.get("organization_id")
        if known and org.id and known != org.id:
            raise OrganizationMismatch(
                f"the key answers for organization {org.slug} ({org.id}), but this pipeline's "
                f"data belongs to organization {state.get('organization_slug')} ({known}). Nothing "
                "was loaded. A dataset holds one organization: load this one as its own pipeline "
                "(another pipeline name and dataset, or --org), or check the base URL and the key.")
        if org.id:
            state["organization_id"], state["organization_slug"] = org.id, org.slug or ""

    def close(self) -> None:
        """End the load: close the client; the next load asks the host afresh."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._org = self._now = None
            self.insights_off = False
            self.clock_trusted = True

    def now(self) -> datetime:
        """The host's clock at the start of this load, to the second; one value per load.

        The host's `Date` header is trusted when it agrees with the local clock. When it does
        not (a simulator, a wrong local clock, or a wrong host clock), it must agree with the
        host's own data: the newest run the host lists within its last 24 hours cannot have
        started more than 24 hours before its now. A `Date` that fails both is logged and not
        used; the local clock stands in if the data allows, else the data's own time.
        """
        with self._lock:
            if self._now is None:
                self.organization()  # its Date header starts the host's clock
                self._now = self._checked(self.client.server_now()).replace(microsecond=0)
            return self._now

    def window_now(self) -> datetime:
        """The now that windows are chosen by: with an untrusted clock, a day later, so that a
        range picked too narrow for the host's real now cannot leave a span unread."""
        return self.now() + (timedelta(0) if self.clock_trusted else timedelta(hours=24))

    def horizon(self) -> datetime:
        """The newest instant a record's time may name and still move a cursor: this load's
        now plus `FUTURE_TOLERANCE`. A record stamped later still loads, with a warning."""
        return self.now() + FUTURE_TOLERANCE

    def _checked(self, host: datetime) -> datetime:
        local = datetime.now(timezone.utc)
        if abs(host - local) <= CLOCK_AGREEMENT:
            return host
        # the data vouches for a clock only with stamps that neither clock calls the future
        newest = self._newest_run(max(host, local) + FUTURE_TOLERANCE)
        if newest is None or newest - FUTURE_TOLERANCE <= host <= newest + timedelta(hours=24) + CLOCK_AGREEMENT:
            return host
        estimate = local if newest <= local <= newest + timedelta(hours=24) else newest
        log.warning(
            "the host's clock (its Date header, %s) disagrees with the local clock (%s) and with "
            "its own data (the newest run it lists in its last 24 hours started %s); it is not "
            "trusted: this load takes %s as the host's now.", iso(host), iso(local), iso(newest),
            iso(estimate),
        )
        self.clock_trusted = False
        return estimate

    def _newest_run(self, ceiling: datetime) -> datetime | None:
        """The newest start the host lists in its last 24 hours that is not beyond `ceiling`."""
        query = {"range": "24h", "sort": "-started_at", "page": 1, "pageSize": RUNS_PAGE_SIZE}
        try:
            rows = pick_rows(self.client.get(api.RUNS.path(), query), *api.RUNS.envelope)
        except ArmatureError:
            return None
        stamps = (try_ts(r.get("started_at")) for r in rows if isinstance(r, dict))
        return max((s for s in stamps if s is not None and s <= ceiling), default=None)

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
