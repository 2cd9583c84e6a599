-- How often does each workflow pass, day by day? Pass rate = pass / (pass + partial + fail), as Armature counts it.
create or replace view workflow_pass_rate_daily as
with finished as (
    -- error and timed_out runs never got a verdict from the judge: counted, but kept out of the rate
    select
        workflow_id,
        workflow_name,
        cast(started_at at time zone 'UTC' as date) as run_date,
        status
    from runs
    where status in ('pass', 'partial', 'fail', 'error', 'timed_out')
),

daily as (
    select
        run_date,
        workflow_id,
        max(workflow_name) as workflow_name,
        count(*) filter (where status = 'pass') as passed,
        count(*) filter (where status = 'partial') as partial,
        count(*) filter (where status = 'fail') as failed,
        count(*) filter (where status = 'error') as errored,
        count(*) filter (where status = 'timed_out') as timed_out
    from finished
    group by run_date, workflow_id
),

final as (
    select
        run_date,
        workflow_id,
        workflow_name,
        passed + partial + failed as judged_runs,
        passed,
        partial,
        failed,
        errored,
        timed_out,
        cast(passed as double) / nullif(passed + partial + failed, 0) as pass_rate
    from daily
)

select
    run_date,
    workflow_id,
    workflow_name,
    judged_runs,
    passed,
    partial,
    failed,
    errored,
    timed_out,
    pass_rate
from final
