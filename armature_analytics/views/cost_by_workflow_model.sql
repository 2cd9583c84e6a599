-- What does each workflow cost, per tester model? Finished runs only: cost is known once a run ends.
create or replace view cost_by_workflow_model as
with finished as (
    select
        workflow_id,
        workflow_name,
        model,
        status,
        cost_usd,
        duration_ms,
        tool_call_count
    from runs
    where status in ('pass', 'partial', 'fail', 'error', 'timed_out')
),

by_model as (
    select
        workflow_id,
        model,
        max(workflow_name) as workflow_name,
        count(*) as finished_runs,
        count(*) filter (where status = 'pass') as passed,
        sum(cost_usd) as total_cost_usd,
        avg(cost_usd) as avg_cost_usd,
        avg(cast(duration_ms as double)) as avg_duration_ms,
        avg(cast(tool_call_count as double)) as avg_tool_calls
    from finished
    group by workflow_id, model
),

final as (
    select
        workflow_id,
        workflow_name,
        model,
        finished_runs,
        passed,
        total_cost_usd,
        avg_cost_usd,
        total_cost_usd / nullif(passed, 0) as cost_per_pass_usd,
        avg_duration_ms,
        avg_tool_calls
    from by_model
)

select
    workflow_id,
    workflow_name,
    model,
    finished_runs,
    passed,
    total_cost_usd,
    avg_cost_usd,
    cost_per_pass_usd,
    avg_duration_ms,
    avg_tool_calls
from final
