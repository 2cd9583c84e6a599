"""The only module that knows HTTP: base URL, auth header, retries, timeouts, concurrency.

One pooled `httpx.Client` with keep-alive serves every request. Requests for independent
things (the children of many runs, the traces of many sessions) go through `get_many`, which
overlaps them on a thread pool, bounded by the throttle (`throttle.py`). Bodies leave here
parsed and snake_cased (`casing.py`), so no resource handles the wire's casing.
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote

import httpx

from armature_source.casing import snake_keys
from armature_source.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ContractError,
    FeatureDisabledError,
    ForbiddenError,
    NotFoundError,
    TransientError,
)
from armature_source.credentials import KEY_HELP, URL_HELP, Connection
from armature_source.throttle import Throttle

log = logging.getLogger("armature_source")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
BAD_BODY = "a body that is not valid JSON"
Params = Mapping[str, Any] | None


def _version() -> str:
    try:
        return importlib.metadata.version("armature-dlt")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "dev"


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient failures are retried before a request gives up."""

    max_attempts: int = 8
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    budget_s: float = 300.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given 1-based attempt."""
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1)))


@dataclass
class RequestStats:
    """What the client did, for the end-of-resource log lines and `status`."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, *, retry: bool = False, limited: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)
            self.rate_limited += int(limited)


@dataclass(frozen=True)
class Missing:
    """Stands in for a body that answered 404: the thing is gone, or has no such child."""

    path: str
    code: str | None


@dataclass(frozen=True)
class Failed:
    """Stands in for a body that could not be had: retries ran out, or it could not be read."""

    path: str
    reason: str


class ArmatureClient:
    """Reads JSON from one Armature host.

    Args:
        connection: the checked REST base and key; the key is sent, never logged or echoed.
        max_in_flight: upper bound of concurrent requests (also the pool size).
    """

    def __init__(
        self,
        connection: Connection,
        *,
        max_in_flight: int = 8,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.api_url = connection.api_url
        key = connection.api_key
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self.throttle = Throttle(max_in_flight)
        self._server_now: tuple[datetime, float] | None = None
        self._reached = False
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = max(1, max_in_flight)
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                # Armature sits behind Cloudflare, which blocks default library user agents.
                "User-Agent": f"armature-dlt/{_version()} (+https://dlthub.com)",
            },
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)),
            limits=httpx.Limits(
                max_connections=self._pool_size, max_keepalive_connections=self._pool_size
            ),
            follow_redirects=False,
        )

    @staticmethod
    def path(*segments: Any) -> str:
        """A path under the REST base from its segments, each one percent-encoded.

        Ids are opaque and may hold any character: `a/b`, `x?y=1`, `..` or `%2e` must stay
        one segment of the path they name, never a separator, a query or a step upwards.
        """
        return "/" + "/".join(_segment(str(part)) for part in segments)

    def __repr__(self) -> str:
        return f"ArmatureClient({self.api_url!r})"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> "ArmatureClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def server_now(self) -> datetime:
        """The host's clock (from its last `Date` header), advanced by local elapsed time."""
        if self._server_now is None:
            self.get("/org")
        assert self._server_now is not None
        stamp, mono = self._server_now
        return stamp + timedelta(seconds=time.monotonic() - mono)

    def get(
        self, path: str, params: Params = None, *, missing_ok: bool = False,
        stats: RequestStats | None = None,
    ) -> Any:
        """GET a JSON body (its keys snake_cased), retrying transient failures.

        Args:
            path: path under the REST base, e.g. `/runs/abc/trace`.
            missing_ok: return `Missing` for a 404 instead of raising NotFoundError.

        Raises:
            AuthError, ForbiddenError, FeatureDisabledError, NotFoundError, ApiError,
            ContractError, TransientError, ConfigError (host unreachable before any answer).
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            with self.throttle.slot():
                outcome = self._attempt(path, params, attempt, stats)
            if isinstance(outcome, httpx.Response):
                return self._decode(path, outcome, missing_ok)
            reason, wait = outcome
            elapsed = time.monotonic() - started
            if attempt >= self.retry.max_attempts or elapsed + wait > self.retry.budget_s:
                if reason.endswith(BAD_BODY):
                    raise ContractError(
                        f"GET {path} answered {reason} on each of {attempt} attempts; the "
                        "host serves something the source cannot read there."
                    )
                raise TransientError(
                    f"GET {path} kept failing ({reason}) after {attempt} attempts over "
                    f"{elapsed:.0f} s. The host may be overloaded or down; run the load again "
                    "later: nothing half-written is kept, the next run completes the data."
                )
            log.info("GET %s: %s; retry %d in %.1f s", path, reason, attempt, wait)
            time.sleep(wait)

    def get_many(
        self, requests: Iterable[tuple[str, Params]], *, failed_ok: bool = False,
        stats: RequestStats | None = None,
    ) -> Iterator[Any]:
        """GET many paths concurrently; yields bodies in request order.

        A 404 yields `Missing`; with `failed_ok`, a request whose body cannot be read (not
        JSON after every retry, or no shape the source knows) yields `Failed` instead of
        raising. Transient failures that outlive their retries always raise: the host is
        down, and the load stops so that the next one completes it.
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="armature-http")
        paths = []
        futures = []
        for path, params in requests:
            paths.append(path)
            futures.append(self._pool.submit(self.get, path, params, missing_ok=True, stats=stats))
        try:
            for path, future in zip(paths, futures):
                try:
                    yield future.result()
                except ContractError as exc:
                    if not failed_ok:
                        raise
                    yield Failed(path, str(exc))
        finally:
            for future in futures:
                future.cancel()

    def _attempt(
        self, path: str, params: Params, attempt: int, stats: RequestStats | None = None
    ) -> httpx.Response | tuple[str, float]:
        """One try: the response to decode, or (why it failed, how long to wait)."""
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException:
            self._count(stats, retry=True)
            return "timed out", self.retry.backoff(attempt)
        except httpx.TransportError as exc:
            self._count(stats, retry=True)
            if not self._reached and isinstance(exc, httpx.ConnectError):
                raise ConfigError(
                    f"Cannot reach the Armature host at {self.api_url} "
                    f"({type(exc).__name__}: {exc}). Check the base URL and the network. {URL_HELP}"
                ) from None
            return f"connection error: {type(exc).__name__}", self.retry.backoff(attempt)
        self._reached = True
        self._note_date(response)
        status = response.status_code
        if status in RETRYABLE_STATUS:
            limited = status == 429
            self._count(stats, retry=True, limited=limited)
            wait = self._retry_after(response)
            if limited:
                wait = wait if wait is not None else self.retry.backoff(attempt + 1)
                self.throttle.rate_limited(wait)
                return "429 rate limited", wait + random.uniform(0, 0.25)
            return f"{status} {_summary(response)}", wait or self.retry.backoff(attempt)
        if 200 <= status < 300 and not _parses(response):
            # a 200 whose JSON is cut short comes from a proxy or a dropped stream: retry it
            self._count(stats, retry=True)
            return f"{status} with {BAD_BODY}", self.retry.backoff(attempt)
        self._count(stats)
        self.throttle.succeeded()
        return response

    def _count(self, stats: RequestStats | None, **kinds: bool) -> None:
        self.stats.count(**kinds)
        if stats is not None:
            stats.count(**kinds)

    def _decode(self, path: str, response: httpx.Response, missing_ok: bool) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            return snake_keys(response.parsed)  # type: ignore[attr-defined]
        code, message = _error_of(response)
        where = f"{status} from GET {path}"
        if status == 401:
            raise AuthError(f"{where}: the API key was rejected ({code}). {KEY_HELP}")
        if status == 403 and code == "feature_disabled":
            raise FeatureDisabledError(
                f"{where}: feature_disabled",
                status=status,
                code=code,
            )
        if status == 403:
            raise ForbiddenError(
                f"{where}: the key's role may not read this ({code}: {message}). "
                "Create a key with at least the viewer role.",
                status=status,
                code=code,
            )
        if status == 404:
            if missing_ok:
                return Missing(path, code)
            raise NotFoundError(f"{where}: {message or 'not found'}.", status=status, code=code)
        if 300 <= status < 400:
            raise ConfigError(
                f"{where}: the host redirects to {response.headers.get('location')!r}. "
                f"Use the final URL as the base URL. {URL_HELP}"
            )
        raise ApiError(f"{where}: {code}: {message}", status=status, code=code)

    def _note_date(self, response: httpx.Response) -> None:
        header = response.headers.get("date")
        if not header:
            if self._server_now is None:
                self._server_now = (datetime.now(timezone.utc), time.monotonic())
            return
        try:
            stamp = email.utils.parsedate_to_datetime(header).astimezone(timezone.utc)
        except (TypeError, ValueError):
            return
        self._server_now = (stamp, time.monotonic())

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        return min(max(seconds, 0.0), self.retry.max_retry_after_s)


def _segment(text: str) -> str:
    if text in (".", ".."):  # dot segments would be resolved away; %2E is the same name
        return text.replace(".", "%2E")
    return quote(text, safe="")


def _parses(response: httpx.Response) -> bool:
    """Parse the JSON body once, keeping it on the response; False if it is not JSON."""
    try:
        response.parsed = response.json()  # type: ignore[attr-defined]
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) from Armature's error envelope, or a short description of the body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "unknown", _summary(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or "unknown"), str(error.get("message") or "")
    code = body.get("errorCode") if isinstance(body, dict) else None
    return str(code or "unknown"), _summary(response)


def _summary(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    if "html" in kind:
        return "an HTML error page (from a proxy?)"
    return f"{kind} body of {len(response.content)} bytes"
