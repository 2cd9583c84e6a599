"""A real HTTP/1.1 server on a free local port that misbehaves on purpose, for the client tests.

Routes pair a regex, searched in the raw request path, with a behaviour: a function that
gets the connection and the request and writes whatever bytes it likes (drip the headers,
drip the body, stream 200 MB, cut the JSON, redirect, echo the key...). Every request is kept
as it arrived, request line and headers, so a test can read what really went over the wire.
Connections are kept alive between requests, as a real host does.

    with HostileServer() as server:
        server.route("/runs$", json_body({"rows": []}))
        server.route("/slow", drip_headers(every_s=0.1))
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Callable

from armature_source.credentials import Connection
from armature_source.http.client import ArmatureClient

API_PREFIX = "/api/armature/v1"


class Gone(Exception):
    """The client hung up."""


@dataclass
class Request:
    """One request as it arrived: the raw line, the raw target, headers lowercased."""

    line: str
    method: str
    target: str
    headers: dict[str, str]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class Conn:
    """One client connection; `send` raises Gone once the client has hung up."""

    def __init__(self, sock: socket.socket, server: "HostileServer") -> None:
        self.sock = sock
        self.server = server
        self.sent = 0

    def send(self, data: bytes) -> None:
        if self.server.stopping.is_set():
            raise Gone()
        try:
            self.sock.sendall(data)
        except OSError:
            raise Gone() from None
        self.sent += len(data)


Behaviour = Callable[[Conn, Request], bool]  # returns whether the connection stays open


class HostileServer:
    """Serves the routes given; anything else answers 404 with Armature's error body."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.routes: list[tuple[re.Pattern[str], Behaviour]] = []
        self.requests: list[Request] = []
        self.hangups: list[tuple[str, float, int]] = []  # (path, seconds after the request, bytes sent)
        self.stopping = threading.Event()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="hostile-accept")
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    def route(self, pattern: str, behaviour: Behaviour) -> None:
        """Answer requests whose path matches `pattern` (searched) with `behaviour`; the
        latest route given wins."""
        self.routes.insert(0, (re.compile(pattern), behaviour))

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()

    def __enter__(self) -> "HostileServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(sock, self)
        pending = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in pending:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, pending = pending.split(b"\r\n\r\n", 1)
                request = _parse(head)
                with self._lock:
                    self.requests.append(request)
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    keep = self._behaviour(request)(conn, request)
                except Gone:
                    self.hangups.append((request.path, time.monotonic() - request.received_at, conn.sent))
                    return
                finally:
                    with self._lock:
                        self.in_flight -= 1
                if not keep or request.headers.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            sock.close()

    def _behaviour(self, request: Request) -> Behaviour:
        for pattern, behaviour in self.routes:
            if pattern.search(request.path):
                return behaviour
        return json_body({"error": {"code": "not_found", "message": "No such resource."}}, status=404)


def _parse(head: bytes) -> Request:
    line, *rest = head.decode("latin-1").split("\r\n")
    method, target, _version = (line.split(" ", 2) + ["", ""])[:3]
    headers = {}
    for raw in rest:
        name, _, value = raw.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(line, method, target, headers)


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def head(status: int, headers: dict[str, str] | None = None) -> bytes:
    """A status line and headers, with a Date header as a host sends it."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(body: bytes, status: int = 200, headers: dict[str, str] | None = None,
            content_type: str = "application/json") -> Behaviour:
    """Answer with exactly these body bytes."""
    def behave(conn: Conn, request: Request) -> bool:
        conn.send(head(status, {"Content-Type": content_type, "Content-Length": str(len(body)),
                                **(headers or {})}) + body)
        return True
    return behave


def json_body(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Behaviour:
    """Answer with `value` as JSON."""
    return respond(json.dumps(value).encode(), status, headers)


def echo(status: int = 200) -> Behaviour:
    """Answer with the request as the server saw it: `{"line", "target", "headers"}`."""
    def behave(conn: Conn, request: Request) -> bool:
        body = {"line": request.line, "target": request.target, "headers": request.headers}
        return json_body(body, status)(conn, request)
    return behave


def echo_key(status: int) -> Behaviour:
    """An error whose message, Location and code repeat the Authorization header back."""
    def behave(conn: Conn, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        error = {"error": {"code": f"bad {auth}", "message": f"we did not like {auth}"}}
        return json_body(error, status, {"Location": f"https://elsewhere.example/?{auth}"})(conn, request)
    return behave


def drip_headers(every_s: float) -> Behaviour:
    """A status line, then one byte of a header every `every_s`, never ending the headers."""
    def behave(conn: Conn, request: Request) -> bool:
        conn.send(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while True:
            time.sleep(every_s)
            conn.send(b"a")
    return behave


def drip_body(every_s: float, length: int = 1_000_000) -> Behaviour:
    """Whole headers promising `length` bytes, then one byte of body every `every_s`."""
    def behave(conn: Conn, request: Request) -> bool:
        conn.send(head(200, {"Content-Type": "application/json", "Content-Length": str(length)}) + b"[")
        while True:
            time.sleep(every_s)
            conn.send(b" ")
    return behave


def stream_json(total_bytes: int, declare_length: bool = False) -> Behaviour:
    """A tool-calls body of about `total_bytes`, generated while sent (chunked, or with its
    Content-Length declared up front); it never sits in the server's memory whole."""
    record = json.dumps({"id": "call", "seq": 0, "result": "x" * 4000}).encode() + b","
    chunk = record * (65536 // len(record))

    def behave(conn: Conn, request: Request) -> bool:
        if declare_length:
            conn.send(head(200, {"Content-Type": "application/json", "Content-Length": str(total_bytes)}))
            conn.send(b'{"rows": [')
            return False
        conn.send(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        sent = 0
        for part in [b'{"rows": ['] + [chunk] * (total_bytes // len(chunk)) + [b'{"id": "end"}]}']:
            conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            sent += len(part)
        conn.send(b"0\r\n\r\n")
        return True
    return behave


def redirect(location: str, status: int = 302) -> Behaviour:
    """A redirect elsewhere."""
    return respond(b"", status, {"Location": location})


def delayed(seconds: float, behaviour: Behaviour) -> Behaviour:
    """`behaviour`, after a pause (the host's latency)."""
    def behave(conn: Conn, request: Request) -> bool:
        time.sleep(seconds)
        return behaviour(conn, request)
    return behave


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The first behaviour for the first request, and so on; the last one from then on."""
    served = iter(range(1 << 62))
    lock = threading.Lock()

    def behave(conn: Conn, request: Request) -> bool:
        with lock:
            n = next(served)
        return behaviours[min(n, len(behaviours) - 1)](conn, request)
    return behave


class TokenBucket:
    """A key behind a token bucket: `rate` tokens a second, at most `burst` saved up; an empty
    bucket answers 429 with an honest Retry-After (whole seconds, rounded up, as HTTP has it,
    or the exact fraction with `fractional`). Answers take `latency_s`."""

    def __init__(self, rate: float, burst: float, latency_s: float, inner: Behaviour,
                 fractional: bool = False) -> None:
        self.rate, self.burst, self.latency_s, self.inner = rate, burst, latency_s, inner
        self.fractional = fractional
        self.tokens = burst
        self.stamp = time.monotonic()
        self.admitted = 0
        self.limited = 0
        self._lock = threading.Lock()

    def __call__(self, conn: Conn, request: Request) -> bool:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            allowed = self.tokens >= 1
            if allowed:
                self.tokens -= 1
                self.admitted += 1
            else:
                self.limited += 1
                wait = (1 - self.tokens) / self.rate
        time.sleep(self.latency_s)
        if allowed:
            return self.inner(conn, request)
        shown = f"{wait:.3f}" if self.fractional else str(max(1, math.ceil(wait)))
        error = {"error": {"code": "rate_limited", "message": "Too many requests."}}
        return json_body(error, 429, {"Retry-After": shown})(conn, request)


KEY = "amt_hostile_s3cr3tvalue42"


def client_for(server: HostileServer, **options: Any) -> ArmatureClient:
    """A client of `server`'s API with the test key."""
    return ArmatureClient(Connection.checked(server.api_url, KEY), **options)
