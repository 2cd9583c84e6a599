-- Which searches come back empty, and what is missing? Each failed-search cluster with its suggested gap and recent occurrences.
create or replace view failed_search_gaps as
with latest as (
    select max(snapshot_date) as snapshot_date
    from failed_search_snapshots
),

recent as (
    select
        snapshots.failed_search_id,
        max(snapshots.occurrences) filter (where snapshots.range = '24h') as occurrences_24h,
        max(snapshots.occurrences) filter (where snapshots.range = '7d') as occurrences_7d,
        max(snapshots.occurrences) filter (where snapshots.range = '30d') as occurrences_30d,
        max(snapshots.occurrences) filter (where snapshots.range = '90d') as occurrences_90d
    from failed_search_snapshots as snapshots
    inner join latest on latest.snapshot_date = snapshots.snapshot_date
    group by snapshots.failed_search_id
),

ranges_read as (
    -- a range's list holds only clusters with occurrences in it: a cluster missing from a list
    -- read that day had none, while a range not read that day says nothing
    select
        bool_or(snapshots.range = '24h') as read_24h,
        bool_or(snapshots.range = '7d') as read_7d,
        bool_or(snapshots.range = '30d') as read_30d,
        bool_or(snapshots.range = '90d') as read_90d
    from failed_search_snapshots as snapshots
    inner join latest on latest.snapshot_date = snapshots.snapshot_date
),

final as (
    select
        searches.id as failed_search_id,
        searches.query,
        searches.suggested_gap,
        searches.occurrences,
        searches.session_count,
        searches.counts_range,
        case when ranges_read.read_24h then coalesce(recent.occurrences_24h, 0) end as occurrences_24h,
        case when ranges_read.read_7d then coalesce(recent.occurrences_7d, 0) end as occurrences_7d,
        case when ranges_read.read_30d then coalesce(recent.occurrences_30d, 0) end as occurrences_30d,
        case when ranges_read.read_90d then coalesce(recent.occurrences_90d, 0) end as occurrences_90d,
        searches.first_seen_at,
        searches.last_seen_at
    from failed_searches as searches
    cross join ranges_read
    left join recent on recent.failed_search_id = searches.id
)

select
    failed_search_id,
    query,
    suggested_gap,
    occurrences,
    session_count,
    counts_range,
    occurrences_24h,
    occurrences_7d,
    occurrences_30d,
    occurrences_90d,
    first_seen_at,
    last_seen_at
from final
