"""An asyncio event loop on one background thread, for callers that are not async.

The client's requests run as coroutines on this loop, so thousands in flight cost a few
kilobytes each instead of a thread each, and a deadline can cancel a request wherever it is
(connecting, waiting for headers, reading the body). Callers hand coroutines over with
`submit` and wait on the `concurrent.futures.Future` it returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

T = TypeVar("T")


class LoopThread:
    """Starts its thread on first use; `close` cancels what is left and joins the thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop; its result or exception arrives in the future."""
        return asyncio.run_coroutine_threadsafe(coro, self._running())

    def in_loop(self) -> bool:
        """Whether the caller runs on the loop's own thread (where waiting would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def close(self, cleanup: Callable[[], Awaitable[None]] | None = None, timeout_s: float = 5.0) -> None:
        """Cancel every task, run `cleanup` on the loop, stop it and join the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        done = asyncio.run_coroutine_threadsafe(_shutdown(cleanup), loop)
        try:
            done.result(timeout_s)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        if not thread.is_alive():
            loop.close()

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=_serve, args=(loop, ready), name=self.name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


async def _shutdown(cleanup: Callable[[], Awaitable[None]] | None) -> None:
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if cleanup is not None:
        await cleanup()
