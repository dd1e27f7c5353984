-- grain: one row per distinct way a landed row names a pupil (school and identifiers)
-- unique_key: [ref_key]
-- incremental: new_keys
-- not_null: [ref_key, method]
-- accepted_values:
--   method: [upn, mis_id, name_and_dob, name_and_group, name_only, none]
-- Pupil matching, in one place for every source. The first identifier a row gives decides
-- how it is matched: UPN, else MIS id, else name with date of birth, else name with
-- registration group. A row that matches no pupil, or more than one, gets a problem and
-- is quarantined by its staging model: a pupil is never guessed. Identity is compared by
-- the blind indexes landing stored beside its ciphertext (empowered.sources.protect):
-- the UPN, the MIS id, the name as a matching key, the name with the date of birth.
-- A MIS id also matches a pupil's aggregator id (Assembly's student id, which its
-- attendance summaries name pupils by; the readers write it as "assembly:<id>", so it
-- never equals an admission number).
with refs as (
    -- One arm per pupil-linked staging model (those declaring pupil_linked: true),
    -- written by empowered.warehouse.staging_spec; each model computes the same key.
    select
        pupil_ref_key(trim(r.school_urn), r.upn_bidx, r.mis_id_bidx, r.pupil_name_bidx,
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state), upper(trim(r.pupil_group))) as ref_key,
        -- Blank and missing school URNs are one and the same key ('' in ref_key).
        nullif(trim(r.school_urn), '') as school_urn,
        r.upn_bidx,
        r.mis_id_bidx,
        r.pupil_name_bidx,
        r.pupil_name_dob_bidx,
        r.pupil_dob_state,
        nullif(upper(trim(r.pupil_group)), '') as pupil_group
    from raw.each_pupil_linked_source as r
),

named as (
    select
        *,
        case
            when upn_bidx is not null then 'upn'
            when mis_id_bidx is not null then 'mis_id'
            when pupil_name_bidx is not null and pupil_dob_state is not null then 'name_and_dob'
            when pupil_name_bidx is not null and pupil_group is not null then 'name_and_group'
            when pupil_name_bidx is not null then 'name_only'
            else 'none'
        end as method
    from refs
),

candidates as (
    select n.ref_key, roll.pupil_key, roll.entry_date, roll.leaving_date
    from named as n
    inner join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = n.school_urn
        and (
            (n.method = 'upn' and roll.upn_bidx = n.upn_bidx)
            or (
                n.method = 'mis_id'
                and (roll.mis_id_bidx = n.mis_id_bidx or roll.aggregator_id_bidx = n.mis_id_bidx)
            )
            or (
                n.method = 'name_and_dob'
                and (
                    roll.name_dob_bidx = n.pupil_name_dob_bidx
                    or roll.name_dob_reversed_bidx = n.pupil_name_dob_bidx
                )
            )
            or (
                n.method = 'name_and_group' and roll.reg_group = n.pupil_group
                and (
                    roll.name_bidx = n.pupil_name_bidx
                    or roll.name_reversed_bidx = n.pupil_name_bidx
                )
            )
        )
),

matched as (
    select
        ref_key,
        count(*) as matches,
        min(pupil_key) as pupil_key,
        min(entry_date) as entry_date,
        min(leaving_date) as leaving_date
    from candidates
    group by ref_key
)

select
    n.ref_key,
    n.school_urn,
    n.method,
    case when m.matches = 1 then m.pupil_key end as pupil_key,
    case when m.matches = 1 then m.entry_date end as entry_date,
    case when m.matches = 1 then m.leaving_date end as leaving_date,
    case
        when n.method = 'none' then 'upn'
        when n.method = 'name_only' then 'pupil_name'
        when n.method = 'upn' then 'upn'
        when n.method = 'mis_id' then 'mis_id'
        when n.method = 'name_and_dob' and n.pupil_dob_state = 'unparseable' then 'pupil_dob'
        else 'pupil_name'
    end as problem_column,
    -- The value at fault is a UPN, MIS id, name or date of birth: never shown.
    case when n.method <> 'none' then '(withheld)' end as problem_value,
    case
        when n.method = 'none' then 'is missing: the row names no pupil (UPN, MIS id or name)'
        when n.method = 'name_only'
            then 'gives a name only: add the date of birth or class so the pupil is certain'
        when n.method = 'upn' and not coalesce(ps.upn_is_valid, false)
            then 'is not a valid UPN (13 characters with a correct check letter)'
        when n.method = 'name_and_dob' and n.pupil_dob_state = 'unparseable'
            then 'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)'
        when m.matches is null and n.method = 'upn'
            then 'is not a pupil on roll at this school (pupils.csv)'
        when m.matches is null then 'no pupil on roll at this school matches it'
        when m.matches > 1
            then 'matches ' || cast(m.matches as varchar)
                || ' pupils at this school: give the UPN or date of birth'
    end as problem_reason
from named as n
left join matched as m on m.ref_key = n.ref_key
left join raw.pupil_pseudonym as ps on ps.upn_bidx = n.upn_bidx
