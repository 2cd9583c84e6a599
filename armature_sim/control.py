"""`SimControl`: a thin client for the simulator's `/_sim` endpoints (tests, demos, benchmarks).

The simulator is reached over real HTTP like any host; `/_sim` is not part of Armature's API,
needs no key and never shows up in the request log.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

import httpx


class SimControl:
    """Read the ground truth, move the clock, rebuild the world, set faults, read the log."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self._http = httpx.Client(base_url=f"{base_url.rstrip('/')}/_sim", timeout=timeout)

    def truth(self) -> dict[str, Any]:
        """What the API serves now: ids, counts, open runs, what each insights list returns."""
        return self._call("GET", "/truth")  # type: ignore[no-any-return]

    def advance(self, minutes: float = 60) -> dict[str, Any]:
        """Move the clock; returns {now, new_runs, ended_runs, new_sessions, grown_sessions}."""
        return self._call("POST", "/advance", {"minutes": minutes})  # type: ignore[no-any-return]

    def reset(self, **options: Any) -> dict[str, Any]:
        """Rebuild the world (seed, runs, days, sessions, dialect, insights, latency_ms, now).

        Omitted options keep the server's start options; faults and the request log are cleared.
        """
        if isinstance(options.get("now"), datetime):
            options["now"] = options["now"].isoformat()
        return self._call("POST", "/reset", options)  # type: ignore[no-any-return]

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Put fault rules in force (see `armature_sim.faults`); counters start at zero."""
        return self._call("PUT", "/faults", {"rules": rules})["rules"]  # type: ignore[no-any-return]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        """The rules in force, each with "matched" and "fired" counts."""
        return self._call("GET", "/faults")["rules"]  # type: ignore[no-any-return]

    def requests(self) -> list[dict[str, Any]]:
        """API requests served, in order: {method, path, query, status, at, fault}."""
        return self._call("GET", "/requests")  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def configure(self, latency_ms: int | None = None, insights: bool | None = None) -> dict[str, Any]:
        """Change switches that keep the world: added latency, MCP Analytics on or off."""
        body = {k: v for k, v in (("latency_ms", latency_ms), ("insights", insights)) if v is not None}
        return self._call("PUT", "/config", body)  # type: ignore[no-any-return]

    def now(self) -> datetime:
        """The simulated now, an aware UTC datetime."""
        return datetime.fromisoformat(self._call("GET", "/clock")["now"].replace("Z", "+00:00"))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one control request; a refusal raises with the simulator's message."""
        response = self._http.request(method, path, json=body)
        if response.is_error:
            raise RuntimeError(f"{method} /_sim{path} failed with {response.status_code}: {response.text}")
        return response.json()
