-- What do users ask for that the MCP server cannot do? Topics flagged as unmet demand (not archived), with their loaded sessions.
create or replace view unmet_demand as
with demand as (
    select
        id as topic_id,
        label,
        session_count,
        tool_call_count,
        error_rate,
        frustration_score,
        trend,
        counts_range,
        first_seen_at,
        last_seen_at
    from topics
    where is_unmet_demand and not coalesce(archived, false)
),

loaded_sessions as (
    select
        topic_id,
        count(*) as sessions_loaded,
        count(distinct actor_id) as actors_loaded,
        max(raw_intent) as example_intent
    from sessions
    group by topic_id
),

final as (
    select
        demand.topic_id,
        demand.label,
        demand.session_count,
        demand.counts_range,
        demand.tool_call_count,
        demand.error_rate,
        demand.frustration_score,
        demand.trend,
        coalesce(loaded_sessions.sessions_loaded, 0) as sessions_loaded,
        coalesce(loaded_sessions.actors_loaded, 0) as actors_loaded,
        loaded_sessions.example_intent,
        demand.first_seen_at,
        demand.last_seen_at
    from demand
    left join loaded_sessions on loaded_sessions.topic_id = demand.topic_id
)

select
    topic_id,
    label,
    session_count,
    counts_range,
    tool_call_count,
    error_rate,
    frustration_score,
    trend,
    sessions_loaded,
    actors_loaded,
    example_intent,
    first_seen_at,
    last_seen_at
from final
