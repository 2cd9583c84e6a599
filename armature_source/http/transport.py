"""One GET on the wire: send, read the headers, stream a capped body. Part of the client.

The caller (client.py) wraps each attempt in its deadline, so connect, headers and body
together are bounded however slowly a host drips them; cancelling an attempt closes its
connection. The body is read in chunks into one buffer that stops at the cap: a larger
body is cut off as soon as it passes the cap, and never sits in memory whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import httpx

# An error answer is read only for its code and message; a host may send pages of HTML.
ERROR_BODY_BYTES = 64 * 1024


class TooLarge(Exception):
    """The body passed the cap (`declared` is its Content-Length, when the host sent one)."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


@dataclass
class Answer:
    """What one attempt got: status, headers, body, and how long the headers took."""

    status: int
    headers: httpx.Headers
    body: bytearray
    latency_s: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def fetch(
    http: httpx.AsyncClient, path: str, params: Mapping[str, Any] | None, max_body_bytes: int
) -> Answer:
    """GET `path` once.

    Raises:
        TooLarge: a 2xx body larger than `max_body_bytes` (declared or while streaming).
        httpx.HTTPError: the transport failed (the caller decides what is transient).
    """
    started = time.monotonic()
    request = http.build_request("GET", path, params=params)
    response = await http.send(request, stream=True)
    try:
        latency = time.monotonic() - started
        status = response.status_code
        if 300 <= status < 400:
            body = bytearray()  # a redirect is refused, never followed: its body is moot
        elif 200 <= status < 300:
            body = await _read(response, max_body_bytes, cut_off=True)
        else:
            body = await _read(response, ERROR_BODY_BYTES, cut_off=False)
        return Answer(status, response.headers, body, latency)
    finally:
        await response.aclose()


async def _read(response: httpx.Response, cap: int, *, cut_off: bool) -> bytearray:
    """The body up to `cap` bytes; beyond it, raise TooLarge (`cut_off`) or truncate."""
    declared = _content_length(response)
    if cut_off and declared is not None and declared > cap:
        raise TooLarge(declared)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        if len(body) + len(chunk) > cap:
            if cut_off:
                raise TooLarge(declared)
            body += chunk[: cap - len(body)]
            break
        body += chunk
    return body


def _content_length(response: httpx.Response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None
