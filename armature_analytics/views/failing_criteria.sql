-- Which evaluation criteria fail most? Per workflow and criterion; fail rate = fail / (pass + fail), skipped left out.
create or replace view failing_criteria as
with results as (
    select
        runs.workflow_id,
        runs.workflow_name,
        criteria.criterion_id,
        criteria.text,
        criteria.is_required,
        criteria.verdict,
        criteria.score
    from evaluation_criteria as criteria
    inner join runs on runs.id = criteria.run_id
),

by_criterion as (
    select
        workflow_id,
        criterion_id,
        max(workflow_name) as workflow_name,
        max(text) as criterion_text,
        bool_or(is_required) as is_required,
        count(*) as evaluations,
        count(*) filter (where verdict = 'pass') as passed,
        count(*) filter (where verdict = 'fail') as failed,
        count(*) filter (where verdict = 'skipped') as skipped,
        avg(score) filter (where verdict <> 'skipped') as avg_score
    from results
    group by workflow_id, criterion_id
),

final as (
    select
        workflow_id,
        workflow_name,
        criterion_id,
        criterion_text,
        is_required,
        evaluations,
        passed,
        failed,
        skipped,
        cast(failed as double) / nullif(passed + failed, 0) as fail_rate,
        avg_score
    from by_criterion
)

select
    workflow_id,
    workflow_name,
    criterion_id,
    criterion_text,
    is_required,
    evaluations,
    passed,
    failed,
    skipped,
    fail_rate,
    avg_score
from final
