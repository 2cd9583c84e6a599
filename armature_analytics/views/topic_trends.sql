-- How do usage topics move over time? One row per topic, range and snapshot day, with the change since the previous snapshot.
create or replace view topic_trends as
with snapshots as (
    select
        topic_id,
        snapshot_date,
        range,
        label,
        is_unmet_demand,
        session_count,
        tool_call_count,
        error_rate,
        frustration_score,
        trend,
        lag(session_count) over (partition by topic_id, range order by snapshot_date) as previous_session_count
    from topic_snapshots
),

current_topics as (
    -- labels are edited by users; the latest label names the topic across all its snapshots
    select
        id as topic_id,
        label
    from topics
),

final as (
    select
        snapshots.snapshot_date,
        snapshots.range,
        snapshots.topic_id,
        coalesce(current_topics.label, snapshots.label) as label,
        snapshots.is_unmet_demand,
        snapshots.session_count,
        snapshots.session_count - snapshots.previous_session_count as session_count_change,
        snapshots.tool_call_count,
        snapshots.error_rate,
        snapshots.frustration_score,
        snapshots.trend
    from snapshots
    left join current_topics on current_topics.topic_id = snapshots.topic_id
)

select
    snapshot_date,
    range,
    topic_id,
    label,
    is_unmet_demand,
    session_count,
    session_count_change,
    tool_call_count,
    error_rate,
    frustration_score,
    trend
from final
