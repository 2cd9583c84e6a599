"""What a host's answer means, in the source's terms. Part of the client.

A non-2xx status becomes the error the source raises (or, for 404, `NotFoundError`, which
the client turns into `Missing` when asked to); headers give Retry-After and the host's
clock. Text the host wrote (an error message, a redirect target) passes through `scrub`
first: a host that echoes the request back must not carry the API key into a log line.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Mapping

import orjson

from armature_source.credentials import KEY_HELP, URL_HELP
from armature_source.errors import (
    ApiError,
    ArmatureError,
    AuthError,
    ConfigError,
    FeatureDisabledError,
    ForbiddenError,
    NotFoundError,
)
from armature_source.http.transport import Answer

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
Scrub = Callable[[str], str]
_SHOWN_CHARS = 300  # of a host's own message


def refusal(path: str, answer: Answer, scrub: Scrub) -> ArmatureError:
    """The error for a final (not retried) non-2xx answer to GET `path`."""
    status = answer.status
    code, message = error_of(answer, scrub)
    where = f"{status} from GET {path}"
    if status == 401:
        return AuthError(f"{where}: the API key was rejected ({code}). {KEY_HELP}")
    if status == 403 and code == "feature_disabled":
        return FeatureDisabledError(f"{where}: feature_disabled", status=status, code=code)
    if status == 403:
        return ForbiddenError(
            f"{where}: the key's role may not read this ({code}: {message}). "
            "Create a key with at least the viewer role.",
            status=status,
            code=code,
        )
    if status == 404:
        return NotFoundError(f"{where}: {message or 'not found'}.", status=status, code=code)
    if 300 <= status < 400:
        target = scrub(answer.headers.get("location") or "")[:_SHOWN_CHARS]
        return ConfigError(
            f"{where}: the host redirects to {target!r}; redirects are not followed (the API "
            f"key would travel with them). Use the final URL as the base URL. {URL_HELP}"
        )
    return ApiError(f"{where}: {code}: {message}", status=status, code=code)


def error_of(answer: Answer, scrub: Scrub) -> tuple[str, str]:
    """(code, message) from Armature's error envelope, or a short description of the body."""
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return "unknown", summary(answer)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = scrub(str(error.get("code") or "unknown"))[:80]
        return code, scrub(str(error.get("message") or ""))[:_SHOWN_CHARS]
    other = body.get("errorCode") if isinstance(body, dict) else None
    return scrub(str(other or "unknown"))[:80], summary(answer)


def summary(answer: Answer) -> str:
    """A few words on what kind of body this is, for a message."""
    kind = answer.headers.get("content-type", "").split(";")[0] or "no content type"
    if "html" in kind:
        return "an HTML error page (from a proxy?)"
    return f"{kind} body of {len(answer.body)} bytes"


def retry_after_s(headers: Mapping[str, str], cap_s: float) -> float | None:
    """Retry-After in seconds (it may be seconds or an HTTP date), at most `cap_s`."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap_s)


def host_date(headers: Mapping[str, str]) -> datetime | None:
    """The host's clock from its `Date` header, if it sent one that parses."""
    header = headers.get("date")
    return _http_date(header) if header else None


@lru_cache(maxsize=64)
def _http_date(value: str) -> datetime | None:
    """An HTTP date (`Tue, 01 Dec 2026 19:43:01 GMT`) in UTC, or None when it does not parse.
    Cached: a host stamps every answer of one second alike, and parsing took a few percent
    of the client's thread."""
    try:
        stamp = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)
