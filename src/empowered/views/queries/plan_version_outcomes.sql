-- grain: one row per accepted outcome row of the plans of one pupil (every version)
select
    o.outcome_id, o.plan_id, o.plan_version, o.area_of_need, o.outcome_text, o.target_date,
    o.provision, o.strategy_codes, o.who, o.how_often, o._batch_id as batch_id,
    o._source_row as source_row
from staging.stg_canonical_plan_outcomes as o
where o._reject_reason is null
    and o.plan_id in (
        select p.plan_id
        from staging.stg_canonical_plans as p
        where p.pupil_key = $pupil_key
            and p._reject_reason is null
            and ($scope_schools is null or list_contains($scope_schools, p.school_urn))
            and ($scope_pupils is null or list_contains($scope_pupils, p.pupil_key))
    )
order by o.plan_id, o._batch_id, o._source_row
