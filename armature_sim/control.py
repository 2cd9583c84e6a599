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
    """Read the ground truth, move or freeze the clock, rebuild the world, flip switches, set
    faults and poison, read the log."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self._http = httpx.Client(base_url=f"{base_url.rstrip('/')}/_sim", timeout=timeout)

    def truth(self) -> dict[str, Any]:
        """What the API serves now: ids, counts, open runs, what each insights list returns."""
        return self._call("GET", "/truth")  # type: ignore[no-any-return]

    def advance(self, minutes: float = 60) -> dict[str, Any]:
        """Move the clock; returns {now, new_runs, ended_runs, new_sessions, grown_sessions}."""
        return self._call("POST", "/advance", {"minutes": minutes})  # type: ignore[no-any-return]

    def reset(self, **options: Any) -> dict[str, Any]:
        """Rebuild the world from any of `SimOptions`'s fields (seed, runs, days, sessions, now,
        dialect, insights, latency_ms, date_offset_s, clock_speed, rate_limit_rps,
        rate_limit_burst, children_delay_minutes, children_missing_run_ids, poison).

        Omitted options keep the server's start options. Faults, poison rules added since, rate
        limit buckets and the request log are cleared; the options' own `poison` is put in force.
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
        """API requests served, in order: {method, path, query, status, at, fault, rate_limited}."""
        return self._call("GET", "/requests")  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def configure(
        self,
        latency_ms: int | None = None,
        insights: bool | None = None,
        *,
        date_offset_s: int | None = None,
        clock_speed: float | None = None,
        rate_limit_rps: float | None = None,
        rate_limit_burst: int | None = None,
        children_delay_minutes: float | None = None,
        children_missing_run_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Change switches that keep the world; returns every switch, the dialect and the now.

        Args:
            latency_ms: added to every API request.
            insights: MCP Analytics on or off.
            date_offset_s: seconds added to the `Date` header only (may be negative).
            clock_speed: simulated seconds per real second; 0 freezes the clock.
            rate_limit_rps: tokens per second per API key; 0 lifts the limit.
            rate_limit_burst: the bucket's size; 0 is one second's worth.
            children_delay_minutes: a terminal run's children appear this long after it ends.
            children_missing_run_ids: terminal runs whose children never appear.
        """
        given = dict(
            latency_ms=latency_ms, insights=insights, date_offset_s=date_offset_s, clock_speed=clock_speed,
            rate_limit_rps=rate_limit_rps, rate_limit_burst=rate_limit_burst,
            children_delay_minutes=children_delay_minutes, children_missing_run_ids=children_missing_run_ids,
        )
        body = {name: value for name, value in given.items() if value is not None}
        return self._call("PUT", "/config", body)  # type: ignore[no-any-return]

    def freeze(self) -> datetime:
        """Stop a running clock where it is (clock_speed 0); returns the now it stopped at."""
        return _moment(self.configure(clock_speed=0)["now"])

    def poison(self, rules: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add poison rules (see `armature_sim.poison`); returns them as resolved.

        Each comes back with the `id` (and `parent`) it names, the `field` it spoils and the
        `endpoints` that serve it.
        """
        given = [rules] if isinstance(rules, dict) else rules
        return self._call("POST", "/poison", {"rules": given})["added"]  # type: ignore[no-any-return]

    def clear_poison(self) -> None:
        """Remove every poison rule."""
        self._call("DELETE", "/poison")

    def poisons(self) -> list[dict[str, Any]]:
        """The poison rules in force, each with how often it was served."""
        return self._call("GET", "/poison")["rules"]  # type: ignore[no-any-return]

    def now(self) -> datetime:
        """The simulated now, an aware UTC datetime."""
        return _moment(self._call("GET", "/clock")["now"])

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


def _moment(text: str) -> datetime:
    """A timestamp of a control answer as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
