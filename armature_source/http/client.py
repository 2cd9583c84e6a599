"""The only module that knows HTTP: base URL, auth header, retries, deadlines, concurrency.

    client.py       what resources call: get, get_many, submit, submit_all, server_now, path; every
                    request runs on one background event loop (`loop.py`)
    ├── retry       one request's life: room, pace, attempts under deadlines, retries
    ├── transport   one GET on the wire (aiohttp): headers, then a body streamed up to its cap
    ├── codings     gzip and deflate undone, however many are stacked, the decoded size capped
    ├── answers     what a status means: the error to raise, Retry-After, the host's clock
    ├── decoding    JSON to Python values, text repaired for every destination
    ├── limiter     how many requests may be in flight: adapts to the host
    ├── pacer       how fast requests may start: learned from the host's 429s
    └── redaction   the key masked in the HTTP libraries' own debug log lines

Resources call the synchronous methods here; the requests themselves run as coroutines on
one background loop, so many in flight cost little and a deadline can cut any of them.
Bodies leave parsed and snake_cased (`casing.py`), so no resource handles the wire's casing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.metadata
import itertools
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Callable, Coroutine, Iterable, Iterator, Sequence
from urllib.parse import quote

from armature_source.credentials import Connection, secret_parts
from armature_source.http import redaction
from armature_source.http.limiter import Limiter
from armature_source.http.loop import Loop
from armature_source.http.outcomes import Failed, Missing, RequestStats
from armature_source.http.pacer import Pacer
from armature_source.http.retry import BAD_BODY, Exchange, Limits, Params, RetryPolicy
from armature_source.http.transport import Wire

__all__ = ["ArmatureClient", "BAD_BODY", "Failed", "Missing", "Params", "RequestStats", "RetryPolicy"]


# beyond 32, a load gains little, at high latency only, for twice the connections (bench/NOTES.md)
DEFAULT_MAX_IN_FLIGHT = 32
# A whole attempt (connect, headers, body) never takes longer; a healthy answer takes < 1 s.
DEFAULT_DEADLINE_S = 120.0
# 1,000 times the largest tool-call result the contract names (~64 KiB); parsed, such a body
# takes a few hundred MB, about what a load may hold besides DuckDB's 200 MB.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


def _version() -> str:
    try:
        return importlib.metadata.version("armature-dlt")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "dev"


class ArmatureClient:
    """Reads JSON from one Armature host.

    Args:
        connection: the checked REST base and key; the key is sent, never logged or echoed.
        max_in_flight: most requests in flight at once (the adaptive limit's ceiling).
        timeout_s: longest silence while connecting or reading before an attempt fails.
        retry: attempts and budget for transient failures; no request, with its retries,
            outlives `retry.budget_s`.
        request_deadline_s: longest one attempt may take, connect, headers and body together.
        max_body_bytes: largest body read; a larger one fails its request (BodyTooLargeError).
    """

    def __init__(
        self,
        connection: Connection,
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        request_deadline_s: float = DEFAULT_DEADLINE_S,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        key = connection.api_key  # checked when the connection was made
        self.api_url = connection.api_url
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self.limiter = Limiter(max_in_flight)
        self.pacer = Pacer()
        pool = max(1, max_in_flight)
        headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            # Armature sits behind Cloudflare, which blocks default library user agents.
            "User-Agent": f"armature-dlt/{_version()} (+https://dlthub.com)",
        }

        limits = Limits(self.retry, request_deadline_s, max_body_bytes)
        self._secrets = secret_parts(key)
        wire = Wire(self.api_url, headers, timeout_s=timeout_s, connections=pool)
        self._exchange = Exchange(wire, limits, self.limiter, self.pacer, self._secrets, self.api_url)
        self._ahead = 4 * pool
        self._priority = itertools.count()
        self._loop = Loop("armature-http")
        self._hidden = True
        redaction.hide(self._secrets)

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
        """Cancel what is still in flight; close every connection and the loop's thread."""
        self._loop.close(self._exchange.aclose)
        if self._hidden:
            self._hidden = False
            redaction.unhide(self._secrets)

    def __enter__(self) -> "ArmatureClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def server_now(self) -> datetime:
        """The host's clock (from its last `Date` header), advanced by local elapsed time."""
        if self._exchange.server_clock is None:
            self.get("/org")
        assert self._exchange.server_clock is not None
        stamp, mono = self._exchange.server_clock
        return stamp + timedelta(seconds=time.monotonic() - mono)

    def get(
        self, path: str, params: Params = None, *, missing_ok: bool = False,
        stats: RequestStats | None = None, keep_keys: bool = False,
    ) -> Any:
        """GET a JSON body (its keys snake_cased), retrying transient failures.

        Args:
            path: path under the REST base, e.g. `/runs/abc/trace` (build it with `path`).
            missing_ok: return `Missing` for a 404 instead of raising NotFoundError.
            stats: counted as well as the client-wide `stats` (per-resource attribution).
            keep_keys: return keys as served, for documents such as `/openapi`.

        Raises:
            AuthError, ForbiddenError, FeatureDisabledError, NotFoundError, ApiError,
            ContractError (BodyTooLargeError), TransientError, ConfigError (host unreachable
            before any answer, or it redirects).
        """
        if self._loop.in_loop():
            raise RuntimeError("ArmatureClient.get called on the client's own loop thread")
        future = self.submit(path, params, missing_ok=missing_ok, stats=stats, keep_keys=keep_keys)
        return future.result()

    def submit(
        self, path: str, params: Params = None, *, missing_ok: bool = True,
        failed_ok: bool = False, stats: RequestStats | None = None, keep_keys: bool = False,
    ) -> concurrent.futures.Future[Any]:
        """Start a GET now; its body (or `Missing`, `Failed`, or the error) comes in the future.

        For prefetching: ask for the next page while the rows of this one are worked on.
        """
        counters = (self.stats,) if stats is None or stats is self.stats else (self.stats, stats)
        query = dict(params) if params else None
        request = self._exchange.request(path, query, next(self._priority), missing_ok, failed_ok,
                                         counters, keep_keys)
        return self._loop.submit(request)

    def submit_all(
        self, requests: Sequence[tuple[str, Params]], *, failed_ok: bool = False,
        stats: RequestStats | None = None, on_answer: Callable[[Any], None] | None = None,
    ) -> concurrent.futures.Future[list[Any]]:
        """Start many GETs now; one future brings, in request order, each one's body (or
        `Missing`, `Failed`, or the error it ended in, as a value: the caller raises it).

        For a batch the caller needs whole: handed to the loop in one call, not one call and
        one future per request. `on_answer` is called on the client's thread with each body
        as it arrives. Cancelling the future cancels them all.
        """
        counters = (self.stats,) if stats is None or stats is self.stats else (self.stats, stats)
        sent = [self._exchange.request(path, dict(params) if params else None, next(self._priority),
                                       True, failed_ok, counters, False)
                for path, params in requests]
        return self._loop.submit(_all(sent, on_answer))

    def get_many(
        self, requests: Iterable[tuple[str, Params]], *, failed_ok: bool = False,
        stats: RequestStats | None = None,
    ) -> Iterator[Any]:
        """GET many paths concurrently; yields bodies in request order.

        A 404 yields `Missing`; with `failed_ok`, a request whose body cannot be read (not
        JSON after every retry, larger than the cap, or no shape the source knows) yields
        `Failed` instead of raising. Transient failures that outlive their retries always
        raise: the host is down, and the load stops so that the next one completes it.
        At most four times `max_in_flight` requests run ahead of the consumer: enough that
        one request waiting out a Retry-After does not stall the rest, few enough that a slow
        consumer holds a bounded number of bodies.
        """
        window: deque[concurrent.futures.Future[Any]] = deque()
        try:
            for path, params in requests:
                window.append(self.submit(path, params, failed_ok=failed_ok, stats=stats))
                if len(window) >= self._ahead:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()


async def _all(requests: list[Coroutine[Any, Any, Any]],
               on_answer: Callable[[Any], None] | None) -> list[Any]:
    """Run the requests together; each one's body, or the exception it ended in, in order."""
    async def answered(request: Coroutine[Any, Any, Any]) -> Any:
        body = await request
        if on_answer is not None:
            on_answer(body)
        return body

    return await asyncio.gather(*(answered(r) for r in requests), return_exceptions=True)


def _segment(text: str) -> str:
    if text in (".", ".."):  # dot segments would be resolved away; %2E is the same name
        return text.replace(".", "%2E")
    return quote(text, safe="")
