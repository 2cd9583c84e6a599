"""Serving the simulator with uvicorn, and spawning it as a subprocess for tests and demos."""

from __future__ import annotations

import logging
import queue
import socket
import subprocess
import sys
import threading
from collections import deque
from types import TracebackType
from typing import IO, Any

import uvicorn

from armature_sim.command_line import flags, moment
from armature_sim.control import SimControl
from armature_sim.http.app import create_app
from armature_sim.vocabulary import API_PREFIX, DEFAULT_HOST, DEFAULT_KEY, DEFAULT_PORT, SimOptions

BANNER = "Armature simulator: "


class _QuietCuts(logging.Filter):
    """Drop uvicorn's complaint about the responses the `cut` fault abandons on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def serve(options: SimOptions, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Build the world, listen, print the banner line, then serve until stopped.

    The socket is bound and listening before the banner is printed, so whoever reads the
    banner can connect at once; port 0 picks a free port.
    """
    app = create_app(options)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only turns Nagle off (TCP_NODELAY) on sockets that do, and
    # without it every keep-alive answer waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{sock.getsockname()[1]}"
    print(f"{BANNER}{base}{API_PREFIX} key {DEFAULT_KEY}", flush=True)
    print(
        f"seed {options.seed}, {options.runs} runs over {options.days} days, {options.sessions} sessions, "
        f"dialect {options.dialect}, insights {'on' if options.insights else 'off'}{_pressures(options)}; "
        f"controls at {base}/_sim",
        flush=True,
    )
    loop, http = _loop_and_parser()
    config = uvicorn.Config(
        app, loop=loop, http=http, lifespan="off", date_header=False,
        access_log=False, log_level="warning", backlog=1024,
    )
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())
    uvicorn.Server(config).run(sockets=[sock])


def _pressures(options: SimOptions) -> str:
    """The banner's note of the hostile switches that are on."""
    notes = [
        f"clock speed {options.clock_speed:g}" if options.clock_speed else "",
        f"rate limit {options.rate_limit_rps:g} rps" if options.rate_limit_rps else "",
        f"Date offset {options.date_offset_s:+d} s" if options.date_offset_s else "",
        f"children {options.children_delay_minutes:g} min late" if options.children_delay_minutes else "",
        f"{len(options.poison)} poison rule{'s' if len(options.poison) > 1 else ''}" if options.poison else "",
    ]
    return "".join(f", {note}" for note in notes if note)


def _loop_and_parser() -> tuple[str, str]:
    """uvloop and httptools when both import (about 1.4 times the requests/s), else asyncio and h11."""
    try:
        import httptools  # noqa: F401
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio", "h11"
    return "uvloop", "httptools"


class RunningSim:
    """A simulator subprocess; stop it with `stop()` or use it as a context manager."""

    def __init__(self, process: subprocess.Popen[str], base_url: str, stderr_tail: deque[str]) -> None:
        self.process = process
        self.base_url = base_url
        self.api_url = f"{base_url}{API_PREFIX}"
        self.api_key = DEFAULT_KEY
        self.control = SimControl(base_url)
        self._stderr_tail = stderr_tail

    def stderr(self) -> str:
        """The last lines the simulator wrote to stderr."""
        return "".join(self._stderr_tail)

    def stop(self) -> None:
        """Terminate the simulator and wait for it."""
        self.control.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> RunningSim:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def spawn(host: str = DEFAULT_HOST, timeout: float = 60.0, **options: Any) -> RunningSim:
    """Start `python -m armature_sim --port 0 ...` and wait for its banner.

    Args:
        host: the address to listen on.
        timeout: seconds to wait for the banner.
        options: any of `SimOptions`'s fields (`seed`, `runs`, `days`, `sessions`, `dialect`,
            `insights`, `latency_ms`, `now`, `clock_speed`, `rate_limit_rps`, `poison`, ...);
            the rest keep their defaults. `now` may also be an ISO 8601 string, or None for
            the default.

    Raises:
        TypeError: an option `SimOptions` does not have.
        RuntimeError: the simulator exited or printed no banner within `timeout` seconds.
    """
    now = options.pop("now", None)
    if now is not None:
        options["now"] = moment(now) if isinstance(now, str) else now
    args = [sys.executable, "-m", "armature_sim", "--host", host, "--port", "0", *flags(SimOptions(**options))]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    tail: deque[str] = deque(maxlen=50)
    _drain(process.stdout, lines.put)
    _drain(process.stderr, tail.append)
    try:
        first = lines.get(timeout=timeout)
    except queue.Empty:
        first = ""
    if not first.startswith(BANNER):
        process.kill()
        process.wait()
        raise RuntimeError(f"the simulator did not start ({' '.join(args)}):\n{first}{''.join(tail)}")
    api_url = first[len(BANNER):].split()[0]
    return RunningSim(process, api_url.removesuffix(API_PREFIX), tail)


def _drain(stream: IO[str], keep: object) -> None:
    """Read a pipe to its end on a daemon thread, so the simulator never blocks on a full pipe."""
    def pump() -> None:
        for line in stream:
            keep(line)  # type: ignore[operator]
        keep("")  # type: ignore[operator]

    threading.Thread(target=pump, daemon=True).start()
