"""One GET on the wire: send, read the headers, stream a capped body. Part of the client.

The connections are one aiohttp session with one connector of `max_in_flight`
connections, kept alive between requests; aiohttp costs a fraction of httpx's CPU per
request here (bench/NOTES.md). The caller (retry.py) wraps each attempt in its deadline, so
connect, headers and body together are bounded however slowly a host drips them;
cancelling an attempt closes its connection. The body is read in chunks and decoded
(`codings.py`) into one buffer that stops at the cap: a larger body is cut off as soon as
its decoded size passes the cap, and never sits in memory whole. Redirects are never
followed: the key would travel with them.

Proxies come from HTTP_PROXY / HTTPS_PROXY (by the base URL's scheme) and NO_PROXY, upper
or lower case, read once per client. Not `trust_env`: with it aiohttp would also read
~/.netrc on every request and let an entry for the host replace the bearer key.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import time
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from armature_source.http.codings import ACCEPTED, BadEncoding, Decoder

__all__ = ["Answer", "BadEncoding", "TooLarge", "Wire"]

# An error answer is read only for its code and message; a host may send pages of HTML.
ERROR_BODY_BYTES = 64 * 1024
_READ_BYTES = 256 * 1024


class TooLarge(Exception):
    """The body passed the cap (`declared` is its Content-Length, when the host sent one)."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


@dataclass
class Answer:
    """What one attempt got: status, headers, body, and how long the headers took."""

    status: int
    headers: Mapping[str, str]
    body: bytes | bytearray
    latency_s: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Wire:
    """The client's aiohttp session, made on the loop by the first request; loop only."""

    def __init__(self, api_url: str, headers: Mapping[str, str], *, timeout_s: float,
                 connections: int) -> None:
        self._base = api_url.rstrip("/")
        self._headers = {**headers, "Accept-Encoding": ACCEPTED}
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(timeout_s, 15.0),
                                              sock_read=timeout_s)
        self._connections = max(1, connections)
        self._session: aiohttp.ClientSession | None = None
        self._proxy: tuple[URL, aiohttp.BasicAuth | None] | tuple[None, None] = (None, None)

    def url(self, path: str, params: Mapping[str, Any] | None) -> URL:
        """The URL as sent: `path` is already percent-encoded, the query is encoded here."""
        query = f"?{urlencode(_query(params), doseq=True)}" if params else ""
        return URL(f"{self._base}{path}{query}", encoded=True)

    async def fetch(self, path: str, params: Mapping[str, Any] | None, max_body_bytes: int) -> Answer:
        """GET `path` once.

        Raises:
            TooLarge: a 2xx body larger than `max_body_bytes` (declared, or decoded while streaming).
            BadEncoding: a Content-Encoding the client cannot undo.
            aiohttp.ClientError: the transport failed (the caller decides what is transient).
        """
        session = self._session or self._open()
        proxy, proxy_auth = self._proxy
        started = time.monotonic()
        async with session.get(self.url(path, params), allow_redirects=False, proxy=proxy,
                               proxy_auth=proxy_auth) as response:
            latency = time.monotonic() - started
            status = response.status
            body: bytes | bytearray
            if 300 <= status < 400:
                body = b""  # a redirect is refused, never followed: its body is moot
            elif 200 <= status < 300:
                body = await _read(response, max_body_bytes, cut_off=True)
            else:
                body = await _read(response, ERROR_BODY_BYTES, cut_off=False)
            return Answer(status, response.headers, body, latency)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _open(self) -> aiohttp.ClientSession:
        # roots are loaded for an https host only: reading them costs more than a small load's requests
        tls = _tls() if self._base.startswith("https:") else True
        connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0, ssl=tls)
        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=self._timeout, connector=connector,
            auto_decompress=False, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
        )
        with contextlib.suppress(LookupError):
            self._proxy = get_env_proxy_for_url(URL(self._base))
        return self._session


def _tls() -> ssl.SSLContext:
    """certifi's roots, as httpx used; SSL_CERT_FILE or SSL_CERT_DIR, when set, instead."""
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()  # OpenSSL reads both variables itself
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs as text: booleans as `true`/`false`, None as empty, a list as repeats."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            text = "true" if item is True else "false" if item is False else "" if item is None else str(item)
            pairs.append((key, text))
    return pairs


async def _read(response: aiohttp.ClientResponse, cap: int, *, cut_off: bool) -> bytes | bytearray:
    """The decoded body up to `cap` bytes; beyond it, raise TooLarge (`cut_off`) or truncate."""
    declared = response.content_length
    if cut_off and declared is not None and declared > cap:
        raise TooLarge(declared)
    decoder = Decoder(response.headers.getall("Content-Encoding", []))
    if decoder.identity and declared is not None and declared <= cap:
        return await response.read()  # no larger than declared: aiohttp stops at the length
    body = bytearray()
    stream = response.content
    while True:
        chunk = await stream.readany()
        for piece in decoder.feed(chunk) if chunk else decoder.finish():
            if len(body) + len(piece) > cap:
                if cut_off:
                    raise TooLarge(declared)
                body += piece[: cap - len(body)]
                return body
            body += piece
        if not chunk:
            return body
