"""One request's whole life on the client's event loop. Part of the client.

Wait for room under the limit (a retry goes before newer requests), wait for the pace, send.
Each attempt must end, headers and body, within the request deadline and within what is left
of the retry budget, so no request outlives its budget however slowly a host drips bytes.
Transient failures (429, 5xx, timeouts, dropped connections, a 2xx whose JSON is cut short)
are retried here and nowhere else; a 429 waits its own Retry-After while the other requests
go on at the pace (pacer.py). A final answer is settled into a value (parsed, repaired, snake_cased),
`Missing`, or the error it means.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Unpack

import aiohttp

from armature_source.credentials import URL_HELP
from armature_source.errors import (
    ApiError,
    BodyTooLargeError,
    ContractError,
    HostUnreachable,
    NotFoundError,
    TransientError,
)
from armature_source.http import responses as answers
from armature_source.http.casing import snake_keys
from armature_source.http.decoding import NotJson, decode
from armature_source.http.limiter import Limiter, Signal, Slot
from armature_source.http.outcomes import Amounts, Failed, Missing, RequestStats
from armature_source.http.pacer import Pacer
from armature_source.http.transport import Answer, BadEncoding, TooLarge, Wire

log = logging.getLogger("armature_source")

BAD_BODY = "a body that is not valid JSON"
INLINE_DECODE_BYTES = 256 * 1024  # larger bodies are parsed off the loop, which keeps serving
Params = Mapping[str, Any] | None
Counters = tuple[RequestStats, ...]


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient failures are retried before a request gives up.

    `max_attempts` counts failures; a 429 is the host asking to wait, bounded by `budget_s`
    only (with its Retry-After capped at `max_retry_after_s`).
    """

    max_attempts: int = 8
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    budget_s: float = 300.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given 1-based attempt."""
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Limits:
    """The bounds of one request: retries, the deadline of an attempt, the largest body."""

    retry: RetryPolicy
    deadline_s: float
    max_body_bytes: int


@dataclass(frozen=True)
class _Trouble:
    """A transient failure of one attempt: why, what it says of the host, when to retry."""

    reason: str
    signal: Signal
    retry_after_s: float | None = None
    bad_body: bool = False


class Exchange:
    """Sends requests to one host under shared limits; every method runs on the loop."""

    def __init__(self, wire: Wire, limits: Limits, limiter: Limiter, pacer: Pacer,
                 secrets: tuple[str, ...], api_url: str) -> None:
        self._wire = wire
        self.limits = limits
        self.limiter = limiter
        self.pacer = pacer
        self.api_url = api_url
        self.server_clock: tuple[datetime, float] | None = None
        self._secrets = secrets
        self._decoder: concurrent.futures.ThreadPoolExecutor | None = None
        self._reached = False

    async def request(self, path: str, params: Params, priority: int, missing_ok: bool,
                      failed_ok: bool, counters: Counters, keep_keys: bool) -> Any:
        """The body of GET `path`, after retries; `Failed` for an unreadable one if `failed_ok`."""
        try:
            return await self._with_retries(path, params, priority, missing_ok, counters, keep_keys)
        except ContractError as exc:
            if not failed_ok:
                raise
            return Failed(path, str(exc))

    async def aclose(self) -> None:
        await self._wire.aclose()
        if self._decoder is not None:
            self._decoder.shutdown(wait=False, cancel_futures=True)

    def scrub(self, text: str) -> str:
        """`text` with the API key (and its secret) replaced."""
        for secret in self._secrets:
            text = text.replace(secret, "<api key>")
        return text

    async def _with_retries(self, path: str, params: Params, priority: int, missing_ok: bool,
                            counters: Counters, keep_keys: bool) -> Any:
        retry = self.limits.retry
        started: float | None = None
        attempt = failures = 0
        while True:
            attempt += 1
            slot = await self.limiter.acquire(priority)
            signal, latency = Signal.NEUTRAL, None
            try:
                started = started if started is not None else time.monotonic()
                left = retry.budget_s - (time.monotonic() - started)
                await self.pacer.wait()
                self.limiter.sending(slot)
                _add(counters, requests=1)
                deadline = max(0.001, min(self.limits.deadline_s, left))
                outcome = await self._attempt(path, params, deadline, counters)
                signal = outcome.signal if isinstance(outcome, _Trouble) else Signal.CLEAN
                latency = outcome.latency_s if isinstance(outcome, Answer) else None
                if isinstance(outcome, _Trouble) and outcome.signal is Signal.LIMITED:
                    signal = self._learn_from_429(path, slot, outcome)
            finally:
                self.limiter.release(slot, signal, latency)
            if isinstance(outcome, Answer):
                self.pacer.answered(slot.sent_seq)  # the host let it through (a 404 spends a token too)
                settled = await self._settle(path, outcome, missing_ok, counters, keep_keys)
                if not isinstance(settled, _Trouble):
                    return settled
                outcome = settled
            # a 429 is the host asking to wait, not a failure: only the budget bounds those
            failures += outcome.signal is not Signal.LIMITED
            wait = self._wait_for(outcome, attempt)
            elapsed = time.monotonic() - started
            if failures >= retry.max_attempts or elapsed + wait > retry.budget_s:
                raise _give_up(path, outcome, attempt, elapsed)
            _add(counters, retries=1)
            log.info("GET %s: %s; retry %d in %.1f s", path, outcome.reason, attempt, wait)
            await asyncio.sleep(wait)

    def _learn_from_429(self, path: str, slot: Slot, trouble: _Trouble) -> Signal:
        """Teach the pacer; the limit shrinks only when the pacer cannot pace (yet)."""
        lesson = self.pacer.limited(slot.sent_seq, self.limiter.sent, trouble.retry_after_s)
        if lesson is not None:
            log.debug("GET %s: 429; the host allows about %.1f requests/s", path, lesson)
        return Signal.NEUTRAL if self.pacer.learned is not None else Signal.LIMITED

    async def _attempt(self, path: str, params: Params, deadline_s: float,
                       counters: Counters) -> Answer | _Trouble:
        """One try under its deadline: the answer, or why it failed transiently."""
        failure: BaseException | None = None
        try:
            async with asyncio.timeout(deadline_s):
                answer = await self._wire.fetch(path, params, self.limits.max_body_bytes)
        except TooLarge as exc:
            _add(counters, too_large=1)
            raise self._too_large(path, exc) from None
        except (TimeoutError, BadEncoding, aiohttp.ClientError) as exc:
            failure = exc  # judged outside the handler: an aiohttp error holds the request's headers
        if failure is not None:
            return self._trouble(path, failure, deadline_s, counters)
        self._reached = True
        self._note_date(answer)
        if answer.status in answers.RETRYABLE_STATUS:
            wait = answers.retry_after_s(answer.headers, self.limits.retry.max_retry_after_s)
            if answer.status == 429:
                _add(counters, rate_limited=1)
                return _Trouble("429 rate limited", Signal.LIMITED, wait)
            _add(counters, server_errors=1)
            return _Trouble(f"{answer.status} {answers.summary(answer)}", Signal.STRAINED, wait)
        return answer

    def _trouble(self, path: str, exc: BaseException, deadline_s: float, counters: Counters) -> _Trouble:
        """What a failed attempt means; raises when retrying cannot help."""
        if isinstance(exc, aiohttp.ServerTimeoutError):  # connect or read timeout, not the deadline
            _add(counters, timeouts=1)
            return _Trouble("timed out", Signal.STRAINED)
        if isinstance(exc, TimeoutError):  # the deadline's own
            _add(counters, timeouts=1)
            return _Trouble(f"no complete answer within the {deadline_s:.3g} s request deadline",
                            Signal.STRAINED)
        if isinstance(exc, BadEncoding):
            _add(counters, bad_bodies=1)
            return _Trouble(f"a body whose encoding is broken, {BAD_BODY} ({exc})", Signal.NEUTRAL,
                            bad_body=True)
        if isinstance(exc, aiohttp.ClientConnectorError) and not self._reached:
            raise HostUnreachable(
                f"Cannot reach the Armature host at {self.api_url} ({type(exc).__name__}: "
                f"{self.scrub(str(exc.os_error))}). Check the base URL and the network. {URL_HELP}"
            )
        if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                            aiohttp.ClientResponseError)):
            return _Trouble(f"connection error: {type(exc).__name__}", Signal.STRAINED)
        raise ApiError(f"GET {path} could not be sent ({type(exc).__name__}: {self.scrub(str(exc))}).")

    async def _settle(self, path: str, answer: Answer, missing_ok: bool, counters: Counters,
                      keep_keys: bool) -> Any:
        """The body of a final answer, `Missing`, or a bad body to retry; raises refusals."""
        if not answer.ok:
            error = answers.refusal(path, answer, self.scrub)
            if missing_ok and isinstance(error, NotFoundError):
                return Missing(path, error.code)
            raise error
        try:
            if len(answer.body) <= INLINE_DECODE_BYTES:
                value, repairs = _parse(answer.body, keep_keys)
            else:
                loop = asyncio.get_running_loop()
                value, repairs = await loop.run_in_executor(self._decoding(), _parse, answer.body, keep_keys)
        except NotJson as exc:
            _add(counters, bad_bodies=1)
            return _Trouble(f"{answer.status} with {BAD_BODY} ({exc})", Signal.NEUTRAL, bad_body=True)
        if repairs:
            _add(counters, repairs=repairs)
            log.warning("GET %s: %d character(s) that a destination cannot store (NUL, lone "
                        "surrogates, invalid UTF-8) were replaced by U+FFFD", path, repairs)
        _check_shape(path, value)
        return value

    def _wait_for(self, trouble: _Trouble, attempt: int) -> float:
        retry = self.limits.retry
        if trouble.signal is Signal.LIMITED:
            wait = trouble.retry_after_s
            wait = wait if wait is not None else retry.backoff(attempt + 1)
            return wait + random.uniform(0, 0.25)
        return trouble.retry_after_s or retry.backoff(attempt)

    def _too_large(self, path: str, exc: TooLarge) -> BodyTooLargeError:
        cap = self.limits.max_body_bytes
        size = f" ({exc.declared / 2**20:.0f} MiB declared)" if exc.declared else ""
        return BodyTooLargeError(
            f"GET {path} answered a body larger than the {cap / 2**20:.0f} MiB cap{size}; it "
            "was cut off unread. If the host really serves bodies this large, raise "
            "[sources.armature] max_body_bytes.",
            status=200,
        )

    def _decoding(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._decoder is None:
            self._decoder = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="armature-decode")
        return self._decoder

    def _note_date(self, answer: Answer) -> None:
        stamp = answers.host_date(answer.headers)
        if stamp is not None:
            self.server_clock = (stamp, time.monotonic())
        elif self.server_clock is None:
            self.server_clock = (datetime.now(timezone.utc), time.monotonic())


def _give_up(path: str, trouble: _Trouble, attempt: int, elapsed: float) -> Exception:
    if trouble.bad_body:
        return ContractError(
            f"GET {path} answered {trouble.reason} on the last of {attempt} attempts; the host "
            "serves something the source cannot read there."
        )
    return TransientError(
        f"GET {path} kept failing ({trouble.reason}) after {attempt} attempts over "
        f"{elapsed:.0f} s. The host may be overloaded or down; run the load again later: "
        "nothing half-written is kept, the next run completes the data."
    )


def _add(counters: Counters, **amounts: Unpack[Amounts]) -> None:
    for stats in counters:
        stats.add(**amounts)


def _parse(body: bytes | bytearray, keep_keys: bool) -> tuple[Any, int]:
    decoded = decode(body)
    if keep_keys:
        return decoded.value, decoded.repairs
    try:
        return snake_keys(decoded.value), decoded.repairs
    except RecursionError:
        raise NotJson("nested too deeply") from None


def _check_shape(path: str, value: Any) -> None:
    """Every Armature body is a JSON object or array; `null`, a scalar or `{}` carries nothing."""
    if isinstance(value, list) or (isinstance(value, dict) and value):
        return
    shown = "an empty object {}" if isinstance(value, dict) else _kind(value)
    raise ContractError(f"GET {path} answered {shown}; expected a JSON object or array.", status=200)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"a bare {'string' if isinstance(value, str) else 'number'}"
