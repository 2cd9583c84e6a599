-- How do MCP sessions go, day by day? Clean sessions, sessions with errors, frustrated users and unmet demand, by start day.
create or replace view session_outcomes_daily as
with frustration as (
    select
        session_id,
        bool_or(cast(metadata as json) ->> '$.user_frustration' = 'high') as frustrated
    from session_events
    group by session_id
),

session_days as (
    select
        sessions.id,
        cast(sessions.started_at at time zone 'UTC' as date) as session_date,
        sessions.actor_id,
        sessions.event_count,
        sessions.error_count,
        coalesce(frustration.frustrated, false) as frustrated,
        coalesce(topics.is_unmet_demand, false) as unmet_demand
    from sessions
    left join frustration on frustration.session_id = sessions.id
    left join topics on topics.id = sessions.topic_id
),

final as (
    select
        session_date,
        count(*) as sessions,
        count(*) filter (where error_count = 0) as clean_sessions,
        count(*) filter (where error_count > 0) as sessions_with_errors,
        count(*) filter (where frustrated) as frustrated_sessions,
        count(*) filter (where unmet_demand) as unmet_demand_sessions,
        count(distinct actor_id) as active_actors,
        cast(sum(event_count) as bigint) as events,
        cast(sum(error_count) as bigint) as errors,
        cast(sum(error_count) as double) / nullif(sum(event_count), 0) as error_rate
    from session_days
    group by session_date
)

select
    session_date,
    sessions,
    clean_sessions,
    sessions_with_errors,
    frustrated_sessions,
    unmet_demand_sessions,
    active_actors,
    events,
    errors,
    error_rate
from final
