"""The simulator's vocabulary, each word stated once: ranges, statuses, sorts, limits, paths,
error codes, keys and the options a simulator starts from.

The world, the HTTP handlers, the records and the OpenAPI document all import from here, so
a range or a status added here is served, validated and documented alike. Nothing here does
anything; it only names things.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SECOND = 1_000  # world time is integer milliseconds since the epoch
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

API_PREFIX = "/api/armature/v1"
SIM_PREFIX = "/_sim"
OPENAPI_PATH = f"{API_PREFIX}/openapi"

# rolling windows back from the server's now; the first is each list's default
RUN_RANGES: dict[str, int] = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
INSIGHT_RANGES: dict[str, int] = {**RUN_RANGES, "90d": 90 * DAY}
DEFAULT_RUN_RANGE = "24h"
DEFAULT_INSIGHT_RANGE = "7d"
RUNS_WINDOW = RUN_RANGES["30d"]  # how far back the run history reaches
SESSION_HISTORY = INSIGHT_RANGES["90d"]  # how far back the session history reaches
SESSION_IDLE = 30 * MINUTE  # a session idle this long has ended

OPEN_STATUSES = ("pending", "running")
VERDICTS = ("pass", "partial", "fail")  # the terminal statuses the judge evaluates
UNJUDGED_ENDS = ("error", "timed_out")  # terminal statuses that get no evaluation
RUN_STATUSES = (*OPEN_STATUSES, *VERDICTS, *UNJUDGED_ENDS)
CLASSIFICATIONS = ("expected", "regression", "flaky", "infrastructure")
TRIGGERS = ("scheduled", "manual", "api")
CRITERION_VERDICTS = ("pass", "fail", "skipped")
SPAN_KINDS = ("agent", "llm", "tool", "judge")
SPAN_STATUSES = ("ok", "error")
EVENT_KINDS = ("tool_call", "session_init", "actor_identity")
TRANSPORTS = ("streamable_http", "sse", "stdio_hosted")
TARGET_KINDS = ("mcp", "cli")
SETTABLE_WORKFLOW_STATES = ("active", "paused")  # what a PATCH may set; DELETE archives
WORKFLOW_STATES = (*SETTABLE_WORKFLOW_STATES, "archived")
LISTED_ENVIRONMENT = "production"  # the only environment `GET /mcp-servers` lists

RUN_SORTS = ("-started_at", "started_at")  # the first, newest first, is the default
TOPIC_SORTS = ("volume", "frustration", "trend")  # the first is the default


@dataclass(frozen=True)
class Limit:
    """A size parameter: its default, and the cap a larger value is silently served at."""

    default: int
    cap: int


PAGE_SIZE = Limit(default=25, cap=100)
ALT_PAGE_SIZE_CAP = 50  # the alt dialect's host caps pages lower
TOPIC_LIMIT = Limit(default=50, cap=200)
SEARCH_LIMIT = Limit(default=50, cap=200)
SESSION_LIMIT = Limit(default=50, cap=100)

# every error code the simulator answers with, and its status
ERROR_STATUS: dict[str, int] = {
    "validation_failed": 400,
    "unauthenticated": 401,
    "forbidden_role": 403,
    "feature_disabled": 403,
    "not_found": 404,
    "evaluation_not_available": 404,
    "method_not_allowed": 405,
    "rate_limited": 429,
    "internal": 500,
}

# open-ended JSON objects the API passes through untouched, whatever the dialect
OPAQUE_KEYS = frozenset({"arguments", "result", "attributes", "metadata"})

WRITE_ROLES = ("editor", "admin", "owner")
ROLES = ("viewer", *WRITE_ROLES)
DEFAULT_KEY = "amt_demo_localsimulator"
# key -> (key id, key name, role); the token format is amt_<key-id>_<secret>
API_KEYS: dict[str, tuple[str, str, str]] = {
    DEFAULT_KEY: ("key_demo", "local-simulator-viewer", "viewer"),
    "amt_editor_localsimulator": ("key_editor", "local-simulator-editor", "editor"),
    "amt_admin_localsimulator": ("key_admin", "local-simulator-admin", "admin"),
    "amt_owner_localsimulator": ("key_owner", "local-simulator-owner", "owner"),
}

# the kinds of record a poison rule can spoil (`armature_sim.poison`), and the ways to spoil one
RECORD_KINDS = (
    "run", "span", "tool_call", "evaluation", "session", "event", "topic", "failed_search", "mcp_server", "workflow",
)
POISON_KINDS = (
    "lone_surrogate", "nul", "huge_int", "bad_timestamp", "zero_timestamp", "string_number", "deep_json",
    "missing_id", "future_started_at", "nan", "infinity", "fraction", "extra_field", "many_keys",
    "camel_twin", "dashed_twin",
)
# poison kinds that add a member the record does not have (their `field` names it, or its twin)
ADDING_KINDS = ("extra_field", "many_keys")
DEEP_JSON_DEPTH = 1_000  # how deep a deep_json value (or whole body) nests unless a rule says

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@dataclass(frozen=True)
class WorldOptions:
    """What a world is built from; the same options give the same world byte for byte."""

    seed: int = 7
    runs: int = 3000
    days: int = 30
    sessions: int = 2000
    now: datetime = DEFAULT_NOW


@dataclass(frozen=True)
class SimOptions(WorldOptions):
    """Everything `armature-sim`, `server.spawn` and `/_sim/reset` accept, with the defaults.

    The command line, `spawn`'s keywords and the reset body all read their names and defaults
    from here; a simulator is a world plus how it is served.
    """

    dialect: str = "armature"
    insights: bool = True
    latency_ms: int = 0
    date_offset_s: int = 0  # added to the `Date` header only; the clock and the data stay put
    clock_speed: float = 0.0  # simulated seconds per real second; 0 is a frozen clock
    rate_limit_rps: float = 0.0  # tokens per second per API key; 0 is no limit
    rate_limit_burst: int = 0  # the bucket's size; 0 is one second's worth (at least 1)
    children_delay_minutes: float = 0.0  # a terminal run's children appear this long after it ends
    children_missing_run_ids: tuple[str, ...] = ()  # terminal runs whose children never appear
    poison: tuple[dict[str, Any], ...] = ()  # poison rules put in force on the new world


# the options `PUT /_sim/config` changes without rebuilding the world
SWITCHES = (
    "latency_ms", "insights", "date_offset_s", "clock_speed", "rate_limit_rps", "rate_limit_burst",
    "children_delay_minutes", "children_missing_run_ids",
)
