"""Tables of MCP usage insights: the overview, topics, failed searches, sessions, events."""

from __future__ import annotations

from typing import Any

from armature_source.tables.table import table
from armature_source.vocabulary import INSIGHT_RANGES

_RANGE = ("text", "The insights range the snapshot was read with: 24h, 7d, 30d or 90d.",
          tuple(INSIGHT_RANGES))
_SNAPSHOT_DATE = ("date", "The host's UTC date when the snapshot was read.")
_COUNTS_RANGE = ("text", "The insights range (24h, 7d, 30d or 90d) the counts on this row "
                         "cover: the widest one read.", tuple(INSIGHT_RANGES))

_TOPIC_COUNTS: dict[str, Any] = dict(
    session_count=("bigint", "Sessions on the topic in the range (`session_count`)."),
    tool_call_count=("bigint", "Tool calls in those sessions (`tool_call_count`)."),
    error_rate=("double", "Share of those tool calls that failed, 0 to 1 (`error_rate`)."),
    frustration_score=("double", "How frustrated users were, 0 to 1 (`frustration_score`)."),
    trend=("double", "Change of the session count against the previous window of the same "
                     "length, as a ratio (`trend`)."),
)
_TOPIC_FLAGS: dict[str, Any] = dict(
    label=("text", "Topic label; users may edit it in Armature (`label`)."),
    is_unmet_demand=("bool", "Users ask for something the server cannot do (`is_unmet_demand`)."),
    archived=("bool", "Archived by a user (`archived`)."),
)
_SEARCH_COUNTS: dict[str, Any] = dict(
    occurrences=("bigint", "Times a search of the cluster came back empty in the range "
                           "(`occurrences`)."),
    session_count=("bigint", "Sessions with such a search (`session_count`)."),
)
_SEARCH_TEXT: dict[str, Any] = dict(
    query=("text", "The cluster's representative query (`query`)."),
    suggested_gap=("text", "What Armature suggests the server lacks (`suggested_gap`)."),
)

INSIGHTS_OVERVIEW = table(
    "insights_overview",
    "One row per day and range of GET /insights/overview; a reload on the same day replaces "
    "that day.",
    ("snapshot_date", "range"),
    snapshot_date=_SNAPSHOT_DATE,
    range=_RANGE,
    generated_at=("timestamp", "When the host computed the overview, UTC (`generated_at`)."),
    sessions=("bigint", "MCP sessions in the range (`kpis.sessions`)."),
    tool_calls=("bigint", "Tool calls in the range (`kpis.tool_calls`)."),
    error_rate=("double", "Share of tool calls that failed, 0 to 1 (`kpis.error_rate`)."),
    unmet_demand_sessions=("bigint", "Sessions on unmet-demand topics "
                                     "(`kpis.unmet_demand_sessions`)."),
    failed_searches=("bigint", "Searches that came back empty (`kpis.failed_searches`)."),
    active_actors=("bigint", "Distinct users active in the range (`kpis.active_actors`)."),
    trend=("json", "Per day: {date, sessions, tool_calls, errors}, a JSON array (`trend`)."),
    top_topics=("json", "Busiest topics: {id, label, session_count}, a JSON array (`top_topics`)."),
    top_failed_searches=("json", "Most frequent failed searches: {id, query, occurrences}, a "
                                 "JSON array (`top_failed_searches`)."),
)
TOPICS = table(
    "topics",
    "One row per usage topic, as last seen (GET /insights/topics); counts over "
    "`counts_range`; merged on `id`.",
    ("id",),
    id=("text", "Topic id (`id`)."),
    **_TOPIC_FLAGS, **_TOPIC_COUNTS,
    counts_range=_COUNTS_RANGE,
    first_seen_at=("timestamp", "First session on the topic, UTC (`first_seen_at`)."),
    last_seen_at=("timestamp", "Latest session on the topic, UTC (`last_seen_at`)."),
    sample_intents=("json", "Example user intents, a JSON array of strings (`sample_intents`)."),
)
TOPIC_SNAPSHOTS = table(
    "topic_snapshots",
    "One row per topic, day and range: the topic's counts as read that day; a reload on the "
    "same day replaces that day.",
    ("topic_id", "snapshot_date", "range"), parent=("topics", ("topic_id",), ("id",)),
    topic_id=("text", "The topic; see `topics.id`."),
    snapshot_date=_SNAPSHOT_DATE,
    range=_RANGE,
    **_TOPIC_FLAGS, **_TOPIC_COUNTS,
    last_seen_at=("timestamp", "Latest session on the topic, UTC (`last_seen_at`)."),
)
FAILED_SEARCHES = table(
    "failed_searches",
    "One row per failed-search cluster, as last seen (GET /insights/searches); counts over "
    "`counts_range`; merged on `id`.",
    ("id",),
    id=("text", "Failed-search cluster id (`id`)."),
    **_SEARCH_TEXT, **_SEARCH_COUNTS,
    counts_range=_COUNTS_RANGE,
    first_seen_at=("timestamp", "First such search, UTC (`first_seen_at`)."),
    last_seen_at=("timestamp", "Latest such search, UTC (`last_seen_at`)."),
    example_queries=("json", "Example queries of the cluster, a JSON array of strings "
                             "(`example_queries`)."),
)
FAILED_SEARCH_SNAPSHOTS = table(
    "failed_search_snapshots",
    "One row per failed-search cluster, day and range; a reload on the same day replaces "
    "that day.",
    ("failed_search_id", "snapshot_date", "range"),
    parent=("failed_searches", ("failed_search_id",), ("id",)),
    failed_search_id=("text", "The cluster; see `failed_searches.id`."),
    snapshot_date=_SNAPSHOT_DATE,
    range=_RANGE,
    **_SEARCH_TEXT, **_SEARCH_COUNTS,
    last_seen_at=("timestamp", "Latest such search, UTC (`last_seen_at`)."),
)
SESSIONS = table(
    "sessions",
    "One row per MCP session (GET /insights/sessions); merged on `id` while the session "
    "grows, until it is idle for 30 minutes.",
    ("id",),
    id=("text", "Session id (`id`)."),
    mcp_server_id=("text", "The MCP source used; see `mcp_servers.id` (`mcp_server_id`)."),
    session_key=("text", "The client's own session key (`session_key`)."),
    actor_id=("text", "Pseudonymous id of the user (`actor_id`)."),
    raw_intent=("text", "What the user set out to do, as stated (`raw_intent`)."),
    client_name=("text", "MCP client, e.g. an IDE or agent (`client_name`)."),
    client_version=("text", "Its version (`client_version`)."),
    topic_id=("text", "The topic Armature filed it under; see `topics.id` (`topic_id`)."),
    event_count=("bigint", "Events so far (`event_count`)."),
    ok_count=("bigint", "Events that succeeded (`ok_count`)."),
    error_count=("bigint", "Events that failed (`error_count`)."),
    started_at=("timestamp", "First event, UTC (`started_at`)."),
    last_event_at=("timestamp", "Latest event, UTC (`last_event_at`)."),
)
SESSION_EVENTS = table(
    "session_events",
    "One row per event of a session trace (GET /insights/sessions/{id}/trace); re-read "
    "while the session grows, never duplicated; merged on `session_id, event_id`.",
    ("session_id", "event_id"), parent=("sessions", ("session_id",), ("id",)),
    session_id=("text", "The session; see `sessions.id`."),
    event_id=("text", "Event id, unique within its session (`events[].event_id`)."),
    kind=("text", "tool_call, session_init or actor_identity (`kind`).",
             ("tool_call", "session_init", "actor_identity")),
    started_at=("timestamp", "When the event started, UTC (`started_at`)."),
    finished_at=("timestamp", "When it finished, UTC (`finished_at`)."),
    duration_ms=("bigint", "Event time in milliseconds (`duration_ms`)."),
    ok=("bool", "Whether it succeeded (`ok`)."),
    error=("text", "The error, when it failed (`error`)."),
    metadata=("json", "Open-ended JSON: tool_name, user_intent, agent_thinking, "
                      "user_frustration, workflow_run_id... kept as sent (`metadata`)."),
    result_preview=("text", "The start of what the tool returned (`result_preview`)."),
)
