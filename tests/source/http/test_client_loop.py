"""The client's event loop: started on the first request, gone after `close`.

The host here is a socket that accepts connections and never answers, so a request stays in
flight for as long as the test wants.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Iterator

import pytest

from armature_source.credentials import Connection
from armature_source.http.client import ArmatureClient

KEY = "amt_loop_s3cr3tvalue42"
THREAD = "armature-http"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def silent_host() -> Iterator[socket.socket]:
    """A listening socket that never accepts: connections wait in its backlog, unanswered."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def client_of(server: socket.socket) -> ArmatureClient:
    port = server.getsockname()[1]
    return ArmatureClient(Connection.checked(f"http://127.0.0.1:{port}", KEY))


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


def test_a_client_that_is_never_used_starts_no_thread(silent_host: socket.socket) -> None:
    before = len(loop_threads())
    client = client_of(silent_host)
    assert len(loop_threads()) == before
    client.close()
    assert len(loop_threads()) == before


def test_a_request_starts_the_loop_thread_and_close_ends_it(silent_host: socket.socket) -> None:
    before = len(loop_threads())
    client = client_of(silent_host)
    future = client.submit("/org")
    assert isinstance(future, concurrent.futures.Future)
    assert len(loop_threads()) == before + 1
    client.close()
    assert len(loop_threads()) == before


def test_close_cancels_a_request_still_in_flight(silent_host: socket.socket) -> None:
    client = client_of(silent_host)
    future = client.submit("/org")
    with pytest.raises(concurrent.futures.TimeoutError):
        future.result(0.2)
    client.close()
    assert future.cancelled()


def test_close_lets_go_of_the_connections(silent_host: socket.socket) -> None:
    client = client_of(silent_host)
    client.submit("/org")
    silent_host.settimeout(5)
    conn, _ = silent_host.accept()
    client.close()
    conn.settimeout(5)
    with conn:
        while conn.recv(4096):  # the request, then the end of the stream
            pass


def test_closing_twice_is_fine(silent_host: socket.socket) -> None:
    before = len(loop_threads())
    client = client_of(silent_host)
    client.submit("/org")
    client.close()
    client.close()
    assert len(loop_threads()) == before


def test_a_closed_client_refuses_new_requests(silent_host: socket.socket) -> None:
    client = client_of(silent_host)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.submit("/org")


def test_get_on_the_loop_thread_raises_instead_of_waiting_for_itself(silent_host: socket.socket) -> None:
    client = client_of(silent_host)

    async def get_from_the_loop() -> object:
        return client.get("/org")

    try:
        on_loop = client._loop.submit(get_from_the_loop())
        with pytest.raises(RuntimeError, match="own loop thread"):
            on_loop.result(5)
    finally:
        client.close()


# Each script leaves its client in a reference cycle, so that only the garbage collector
# frees it: at the latest while the interpreter shuts down, when the loop's daemon thread can
# no longer run.
EXITS = [
    pytest.param("""
        future = client.submit("/org")
        future.cancel()
        time.sleep(0.5)  # the request ends, the loop idles
        left = [client]
        left.append(left)
        """, id="a client never closed does not hold up the interpreter's exit"),
    pytest.param("""
        client.submit("/org")

        def resource(client):
            try:
                yield
            finally:
                client.close()

        left = [resource(client)]
        next(left[0])
        left.append(left)
        """, id="a client closed while the interpreter shuts down does not hold up its exit"),
]


@pytest.mark.parametrize("then", EXITS)
def test_the_interpreter_exits_with_a_client_left_to_the_garbage_collector(
    silent_host: socket.socket, then: str,
) -> None:
    port = silent_host.getsockname()[1]
    script = textwrap.dedent(f"""
        import time
        from armature_source.credentials import Connection
        from armature_source.http.client import ArmatureClient

        client = ArmatureClient(Connection.checked("http://127.0.0.1:{port}", "{KEY}"))
        """) + textwrap.dedent(then) + "del client, left\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
