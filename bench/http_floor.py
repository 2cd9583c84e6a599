"""The floor: the HTTP requests of a first load, sent as fast as the source is allowed to.

The same requests the armature source sends on a backfill (org, MCP servers and their
details, workflows, every /runs page, trace + tool calls + evaluation of each finished run,
the insights lists per range, sessions and their traces), at the source's concurrency, with
the fastest client measured here: one aiohttp session on one asyncio loop, one connector of
`max_in_flight` connections and as many workers. Bodies are parsed with orjson, their
records counted, and dropped. Nothing waits for anything it does not depend on: the /runs
pages after the first go out together, and a page's children go out as soon as the page is
in. No source can be faster against the same host from the same machine.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Callable

import aiohttp
import orjson

INSIGHT_RANGES = ("24h", "7d", "30d", "90d")
PAGE_SIZE = 100
TERMINAL = frozenset({"pass", "partial", "fail", "error", "timed_out"})
JUDGED = frozenset({"pass", "partial", "fail"})
Handler = Callable[[Any], None]
Job = tuple[str, "dict[str, Any] | None", Handler] | None


class Floor:
    """One crawl of a host; `rows` counts the records parsed, by kind."""

    def __init__(self, api_url: str, api_key: str, max_in_flight: int = 8) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.max_in_flight = max_in_flight
        self.outstanding = 0
        self.rows: Counter[str] = Counter()
        self.requests = 0
        self.error: BaseException | None = None

    def run(self) -> Counter[str]:
        """Send every request, wait for the last answer, return the record counts."""
        asyncio.run(self._crawl())
        if self.error is not None:
            raise self.error
        return self.rows

    async def _crawl(self) -> None:
        # a queue and max_in_flight workers, not a task a request: tens of thousands of
        # waiting tasks would cost the floor memory and CPU that no request needs
        self.jobs: asyncio.Queue[Job] = asyncio.Queue()
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        connector = aiohttp.TCPConnector(limit=self.max_in_flight)
        async with aiohttp.ClientSession(headers=headers, connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as http:
            self.send("/org", None, lambda body: self.count("organization", 1))
            self.send("/mcp-servers", None, self.on_servers)
            self.send("/workflows", None, lambda body: self.count("workflows", len(body["rows"])))
            self.send("/runs", self.runs_query(1), self.on_first_runs_page)
            for range_ in INSIGHT_RANGES:
                self.send("/insights/overview", {"range": range_}, lambda body: self.count("insights_overview", 1))
                self.send("/insights/topics", {"range": range_, "sort": "volume", "limit": 200},
                          lambda body: self.count("topics", len(body["rows"])))
                self.send("/insights/searches", {"range": range_, "limit": 200},
                          lambda body: self.count("failed_searches", len(body["rows"])))
            self.send("/insights/sessions", {"range": "90d", "limit": 100}, self.on_sessions)
            await asyncio.gather(*(self._worker(http) for _ in range(self.max_in_flight)))

    def send(self, path: str, params: dict[str, Any] | None, handler: Handler) -> None:
        self.requests += 1
        self.outstanding += 1
        self.jobs.put_nowait((path, params, handler))

    async def _worker(self, http: aiohttp.ClientSession) -> None:
        while (job := await self.jobs.get()) is not None:
            path, params, handler = job
            try:
                async with http.get(self.api_url + path, params=params) as response:
                    if response.status != 404:
                        response.raise_for_status()
                        handler(orjson.loads(await response.read()))
            except Exception as exc:  # the first failure ends the crawl and is raised
                self.error = self.error or exc
            self.outstanding -= 1
            if self.outstanding == 0 or self.error is not None:
                for _ in range(self.max_in_flight):
                    self.jobs.put_nowait(None)

    def count(self, kind: str, n: int) -> None:
        self.rows[kind] += n

    @staticmethod
    def runs_query(page: int) -> dict[str, Any]:
        return {"range": "30d", "sort": "-started_at", "page": page, "pageSize": PAGE_SIZE}

    def on_servers(self, body: Any) -> None:
        self.count("mcp_servers", len(body["rows"]))
        for server in body["rows"]:
            self.send(f"/mcp-servers/{server['id']}", None, lambda body: None)

    def on_first_runs_page(self, body: Any) -> None:
        pages = -(-int(body["total"]) // PAGE_SIZE)
        for page in range(2, pages + 1):
            self.send("/runs", self.runs_query(page), self.on_runs_page)
        self.on_runs_page(body)

    def on_runs_page(self, body: Any) -> None:
        self.count("runs", len(body["rows"]))
        for run in body["rows"]:
            if run["status"] not in TERMINAL:
                continue
            base = f"/runs/{run['id']}"
            self.send(f"{base}/trace", None, lambda body: self.count("trace_spans", len(body["spans"])))
            self.send(f"{base}/tool-calls", None, lambda body: self.count("tool_calls", len(body["rows"])))
            if run["status"] in JUDGED:
                self.send(f"{base}/evaluation", None, self.on_evaluation)

    def on_evaluation(self, body: Any) -> None:
        self.count("evaluations", 1)
        self.count("evaluation_criteria", len(body.get("criteria") or []))

    def on_sessions(self, body: Any) -> None:
        self.count("sessions", len(body["sessions"]))
        for session in body["sessions"]:
            self.send(f"/insights/sessions/{session['id']}/trace", None,
                      lambda body: self.count("session_events", len(body["events"])))
