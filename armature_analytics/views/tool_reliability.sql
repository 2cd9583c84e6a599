-- How reliable and fast is each tool? Error rate, p50 and p95 duration per tool, in workflow runs and in MCP sessions.
create or replace view tool_reliability as
with run_calls as (
    select
        'workflow_runs' as source,
        tool_name,
        is_error,
        duration_ms
    from tool_calls
),

session_calls as (
    select
        'mcp_sessions' as source,
        cast(metadata as json) ->> '$.tool_name' as tool_name,
        not ok as is_error,
        duration_ms
    from session_events
    where kind = 'tool_call'
),

calls as (
    select source, tool_name, is_error, duration_ms from run_calls
    union all
    select source, tool_name, is_error, duration_ms from session_calls
),

final as (
    select
        source,
        tool_name,
        count(*) as calls,
        count(*) filter (where is_error) as errors,
        cast(count(*) filter (where is_error) as double) / count(*) as error_rate,
        quantile_cont(duration_ms, 0.5) as p50_duration_ms,
        quantile_cont(duration_ms, 0.95) as p95_duration_ms
    from calls
    group by source, tool_name
)

select
    source,
    tool_name,
    calls,
    errors,
    error_rate,
    p50_duration_ms,
    p95_duration_ms
from final
