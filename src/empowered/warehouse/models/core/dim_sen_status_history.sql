-- grain: one row per pupil per school per period of unchanged SEN status and needs
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
-- valid_to is exclusive (the day the next change takes effect); null while current.
-- Historic codes (S, A, P) are kept in sen_provision_raw and mapped to E or K.
-- The needs come from a pupil's ranked needs with their own dates (sen_needs: a SEN
-- register's rows, Arbor's SenNeed, the CTF) where they have any in force that day: rank
-- 1 is the primary need, rank 2 the secondary. Otherwise from the status record itself;
-- a record without its need (a student list's "SEN Support" on the day it was exported)
-- carries the need of the pupil's last record that gave one: it says the status still
-- holds, not that the need went. A period starts wherever the status or a need changes,
-- and a record that changes nothing (as a weekly student list repeats) starts none.
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
        coalesce(given_need, last_value(given_need ignore nulls) over earlier) as primary_need,
        case
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

ranked_needs as (
    select
        pupil_key,
        school_urn,
        need_type,
        coalesce(need_rank, 1) as need_rank,
        start_date,
        end_date
    from staging.stg_canonical_sen_needs
    where _is_current
),

-- Every day something may change: a status record starts, a need starts, a need ends
-- (its end date is its last day).
change_days as (
    select pupil_key, school_urn, start_date as day from records
    union
    select pupil_key, school_urn, start_date from ranked_needs
    union
    select pupil_key, school_urn, cast(end_date + interval 1 day as date) from ranked_needs
    where end_date is not null
),

status_on_day as (
    select
        d.pupil_key,
        d.school_urn,
        d.day,
        c.sen_provision,
        c.sen_provision_raw,
        c.primary_need,
        c.secondary_need,
        row_number() over (
            partition by d.pupil_key, d.school_urn, d.day
            order by c.start_date desc, c._batch_id desc, c._source_row desc
        ) as n
    from change_days as d
    -- Days before the pupil's first status record are no period of the history.
    inner join carried as c
        on c.pupil_key = d.pupil_key and c.school_urn = d.school_urn and c.start_date <= d.day
),

needs_on_day as (
    select
        d.pupil_key,
        d.school_urn,
        d.day,
        min(n.need_type) filter (where n.need_rank = 1) as first_need,
        min(n.need_type) filter (where n.need_rank = 2) as second_need,
        count(n.need_type) as needs_in_force
    from change_days as d
    inner join ranked_needs as n
        on n.pupil_key = d.pupil_key
        and n.school_urn = d.school_urn
        and n.start_date <= d.day
        and (n.end_date is null or n.end_date >= d.day)
    group by d.pupil_key, d.school_urn, d.day
),

days as (
    select
        s.pupil_key,
        s.school_urn,
        s.day,
        s.sen_provision,
        s.sen_provision_raw,
        case
            when s.sen_provision = 'N' then null
            when coalesce(n.needs_in_force, 0) > 0 then n.first_need
            else s.primary_need
        end as primary_need,
        case
            when s.sen_provision = 'N' then null
            when coalesce(n.needs_in_force, 0) > 0 then n.second_need
            else s.secondary_need
        end as secondary_need
    from status_on_day as s
    left join needs_on_day as n
        on n.pupil_key = s.pupil_key and n.school_urn = s.school_urn and n.day = s.day
    where s.n = 1
),

changes as (
    select
        *,
        sen_provision is distinct from lag(sen_provision) over previous
        or sen_provision_raw is distinct from lag(sen_provision_raw) over previous
        or primary_need is distinct from lag(primary_need) over previous
        or secondary_need is distinct from lag(secondary_need) over previous as is_change
    from days
    window previous as (partition by pupil_key, school_urn order by day)
),

statuses as (
    select
        pupil_key,
        school_urn,
        day as valid_from,
        lead(day) over (partition by pupil_key, school_urn order by day) as valid_to,
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
