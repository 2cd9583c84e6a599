"""The event loop every request runs on: a plain asyncio loop on its own thread. Part of the client.

Requests run as coroutines, so thousands in flight cost a few kilobytes each instead of a
thread each, and a deadline can cancel a request wherever it is (connecting, waiting for
headers, reading the body). They are handed over with `asyncio.run_coroutine_threadsafe`,
whose future cancels the request when cancelled and is cancelled when the request is. The
thread starts with the first request: a client that is never used starts none. It is a daemon
thread: a client left to the garbage collector while the interpreter shuts down, when the
thread can no longer run, must not make the process wait for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sys
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

T = TypeVar("T")


class Loop:
    """An asyncio loop on a daemon thread, started by the first `submit`, ended by `close`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # the requests in flight; loop only
        self._closed = False
        self._ended = threading.Event()  # set once a close has stopped the loop and its thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop; its result or exception arrives in the future."""
        try:
            loop = self._running()
        except RuntimeError:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(self._tracked(coro), loop)

    def in_loop(self) -> bool:
        """Whether the caller runs on the loop's own thread (where waiting would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def close(self, cleanup: Callable[[], Awaitable[None]], timeout_s: float = 30.0) -> None:
        """Cancel every request, run `cleanup` on the loop, stop it and join the thread.

        Each wait is bounded by `timeout_s`, generous because it is almost never reached: on
        a machine this busy the loop's thread may get no time for seconds, and a shorter wait
        left the session unclosed and the thread running after the load."""
        with self._lock:
            closing, self._closed = self._closed, True
            loop, thread = self._loop, self._thread
        # while the interpreter shuts down the loop's daemon thread cannot run: a call into the
        # loop would wait forever, and the thread ends with the process anyway
        if loop is None or thread is None or sys.is_finalizing():
            return
        if closing:  # another thread is closing it: return when it is closed, as that one does
            self._ended.wait(timeout_s)
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(cleanup), loop).result(timeout_s)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout_s)
            self._ended.set()

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name=self.name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _tracked(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await coro
        finally:
            self._tasks.discard(task)

    async def _shutdown(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Cancel the requests, wait until they have let go of their connections, clean up."""
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await cleanup()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The loop's thread: run the loop until it is stopped, then cancel what is left and close it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()
