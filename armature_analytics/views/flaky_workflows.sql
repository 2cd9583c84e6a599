-- Which workflows are flaky? Workflows with runs the judge classified flaky, and how often their verdict flips.
create or replace view flaky_workflows as
with judged as (
    select
        id,
        workflow_id,
        workflow_name,
        status,
        classification,
        started_at,
        lag(status) over (partition by workflow_id order by started_at, id) as previous_status
    from runs
    where status in ('pass', 'partial', 'fail')
),

by_workflow as (
    select
        workflow_id,
        max(workflow_name) as workflow_name,
        count(*) as judged_runs,
        count(*) filter (where status = 'pass') as passed,
        count(*) filter (where classification = 'flaky') as flaky_runs,
        count(*) filter (where previous_status is not null and status <> previous_status) as verdict_changes,
        max(started_at) filter (where classification = 'flaky') as last_flaky_at
    from judged
    group by workflow_id
),

final as (
    select
        workflow_id,
        workflow_name,
        judged_runs,
        flaky_runs,
        cast(flaky_runs as double) / judged_runs as flaky_share,
        verdict_changes,
        cast(verdict_changes as double) / nullif(judged_runs - 1, 0) as verdict_change_rate,
        cast(passed as double) / judged_runs as pass_rate,
        last_flaky_at
    from by_workflow
    where flaky_runs > 0
)

select
    workflow_id,
    workflow_name,
    judged_runs,
    flaky_runs,
    flaky_share,
    verdict_changes,
    verdict_change_rate,
    pass_rate,
    last_flaky_at
from final
