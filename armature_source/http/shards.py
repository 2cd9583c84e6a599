"""The client's connections, kept in a few small pools instead of one large one. Part of the client.

httpcore's connection pool walks every one of its connections, and for each idle one walks
them all again, each time a request starts or ends, and asks every idle connection's socket
whether the host closed it: the cost of a request grows with the square of the pool's size.
Pools of `SHARD_SIZE` keep it small; a request goes to the pool with the fewest requests in
flight, so while fewer than `max_in_flight` are in flight one always has a free connection.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator, Callable

import httpx

SHARD_SIZE = 8  # small enough that the pool's bookkeeping costs less than the request (bench/NOTES.md)


class Shards:
    """Lazily built `httpx.AsyncClient`s of at most `SHARD_SIZE` connections each; loop only."""

    def __init__(self, make_http: Callable[[int], httpx.AsyncClient], connections: int) -> None:
        connections = max(1, connections)
        count = -(-connections // SHARD_SIZE)
        self._sizes = [connections // count + (i < connections % count) for i in range(count)]
        self._make_http = make_http
        self._clients: list[httpx.AsyncClient | None] = [None] * count
        self._busy = [0] * count

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The least busy pool's client, counted busy until the block ends."""
        i = min(range(len(self._busy)), key=self._busy.__getitem__)
        http = self._clients[i]
        if http is None:  # built on the loop thread, where it is used
            http = self._clients[i] = self._make_http(self._sizes[i])
        self._busy[i] += 1
        try:
            yield http
        finally:
            self._busy[i] -= 1

    async def aclose(self) -> None:
        for http in self._clients:
            if http is not None:
                await http.aclose()
