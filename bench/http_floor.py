"""The floor: the HTTP requests of a first load, sent as fast as the source is allowed to.

The same requests the armature source sends on a backfill (org, MCP servers and their
details, workflows, every /runs page, trace + tool calls + evaluation of each finished run,
the insights lists per range, sessions and their traces), at the source's concurrency: one
pooled `httpx.Client` and a thread pool of `max_in_flight`. Bodies are parsed with `json`,
their records counted, and dropped. Nothing waits for anything it does not depend on: the
/runs pages after the first go out together, and a page's children go out as soon as the
page is in. No source can be faster against the same host from the same machine.
"""

from __future__ import annotations

import json
import queue
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import httpx

INSIGHT_RANGES = ("24h", "7d", "30d", "90d")
PAGE_SIZE = 100
TERMINAL = frozenset({"pass", "partial", "fail", "error", "timed_out"})
JUDGED = frozenset({"pass", "partial", "fail"})
Handler = Callable[[Any], None]


class Floor:
    """One crawl of a host; `rows` counts the records parsed, by kind."""

    def __init__(self, api_url: str, api_key: str, max_in_flight: int = 8) -> None:
        self.http = httpx.Client(
            base_url=api_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=60.0,
            limits=httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight),
        )
        self.pool = ThreadPoolExecutor(max_in_flight, thread_name_prefix="floor-http")
        # answers come back through one queue: waiting on tens of thousands of futures
        # at once would cost more CPU than the requests
        self.answers: queue.SimpleQueue[tuple[Handler, Any, BaseException | None]] = queue.SimpleQueue()
        self.outstanding = 0
        self.rows: Counter[str] = Counter()
        self.requests = 0

    def run(self) -> Counter[str]:
        """Send every request, wait for the last answer, return the record counts."""
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
        while self.outstanding:
            handler, body, error = self.answers.get()
            self.outstanding -= 1
            if error is not None:
                raise error
            if body is not None:
                handler(body)
        self.pool.shutdown()
        self.http.close()
        return self.rows

    def send(self, path: str, params: dict[str, Any] | None, handler: Handler) -> None:
        self.requests += 1
        self.outstanding += 1
        self.pool.submit(self.get, path, params, handler)

    def get(self, path: str, params: dict[str, Any] | None, handler: Handler) -> None:
        try:
            response = self.http.get(path, params=params)
            body = None if response.status_code == 404 else json.loads(response.raise_for_status().content)
            self.answers.put((handler, body, None))
        except BaseException as exc:  # handed to the main thread, which raises it
            self.answers.put((handler, None, exc))

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
