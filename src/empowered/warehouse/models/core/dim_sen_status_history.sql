-- grain: one row per pupil per school per period of unchanged SEN status
-- unique_key: [pupil_key, school_urn, valid_from]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, valid_from, sen_provision, is_current]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   sen_provision: [E, K, N]
-- checks:
--   - name: periods_end_after_they_start
--     sql: >-
--       select * from core.dim_sen_status_history
--       where valid_to is not null and valid_to <= valid_from
-- valid_to is exclusive (the day the next status starts); null while current. Historic
-- codes (S, A, P) are kept in sen_provision_raw and mapped to E or K.
-- A record without its need (a student list's "SEN Support" on the day it was exported)
-- carries the need of the pupil's last record that gave one: it says the status still
-- holds, not that the need went. A record that changes nothing (the same status and needs
-- as the one before, as a weekly student list repeats) starts no new period.
with records as (
    select
        pupil_key,
        school_urn,
        start_date,
        _batch_id,
        _source_row,
        sen_provision,
        sen_provision_raw,
        nullif(primary_need, '') as given_need,
        nullif(secondary_need, '') as given_secondary
    from staging.stg_canonical_sen_status
    where _is_current
),

carried as (
    select
        pupil_key,
        school_urn,
        start_date,
        _batch_id,
        _source_row,
        sen_provision,
        sen_provision_raw,
        case
            when sen_provision = 'N' then null
            else coalesce(given_need, last_value(given_need ignore nulls) over earlier)
        end as primary_need,
        case
            when sen_provision = 'N' then null
            when given_need is not null then given_secondary
            -- '' stands for "the record that gave the need gave no secondary need".
            else nullif(last_value(
                case when given_need is not null then coalesce(given_secondary, '') end
                ignore nulls
            ) over earlier, '')
        end as secondary_need
    from records
    window earlier as (
        partition by pupil_key, school_urn
        order by start_date, _batch_id, _source_row
        rows between unbounded preceding and current row
    )
),

changes as (
    select
        *,
        sen_provision is distinct from lag(sen_provision) over previous
        or sen_provision_raw is distinct from lag(sen_provision_raw) over previous
        or primary_need is distinct from lag(primary_need) over previous
        or secondary_need is distinct from lag(secondary_need) over previous as is_change
    from carried
    window previous as (
        partition by pupil_key, school_urn order by start_date, _batch_id, _source_row
    )
),

statuses as (
    select
        pupil_key,
        school_urn,
        start_date as valid_from,
        lead(start_date) over (
            partition by pupil_key, school_urn order by start_date, _batch_id, _source_row
        ) as valid_to,
        sen_provision,
        sen_provision_raw,
        primary_need,
        secondary_need
    from changes
    where is_change
)

select
    s.pupil_key,
    s.school_urn,
    s.valid_from,
    s.valid_to,
    s.valid_to is null as is_current,
    s.sen_provision,
    s.sen_provision_raw,
    sp.name as sen_provision_name,
    s.primary_need,
    n1.name as primary_need_name,
    n1.broad_area as primary_broad_area,
    s.secondary_need,
    n2.name as secondary_need_name
from statuses as s
left join reference.sen_provision as sp on sp.code = s.sen_provision
left join reference.sen_need as n1 on n1.code = s.primary_need and n1.effective_to is null
left join reference.sen_need as n2 on n2.code = s.secondary_need and n2.effective_to is null
