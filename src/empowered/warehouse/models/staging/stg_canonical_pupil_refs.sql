-- grain: one row per distinct way a landed row names a pupil (school and identifiers)
-- unique_key: [ref_key]
-- incremental: new_keys
-- not_null: [ref_key, method]
-- accepted_values:
--   method: [upn, mis_id, name_and_dob, name_and_group, name_only, chosen, none]
-- Pupil matching, in one place for every source. The first identifier a row gives decides
-- how it is matched: UPN, else MIS id, else name with date of birth, else name with
-- registration group. A row that matches no pupil, or more than one, gets a problem and
-- is quarantined by its staging model: a pupil is never guessed. Identity is compared by
-- the blind indexes landing stored beside its ciphertext (empowered.sources.protect):
-- the UPN, the MIS id, the name as a matching key, the name with the date of birth.
-- A MIS id also matches a pupil's aggregator id (Assembly's student id, which its
-- attendance summaries name pupils by; the readers write it as "assembly:<id>", so it
-- never equals an admission number).
-- A row that names a pupil without a UPN and matches none or several can be settled by a
-- member of staff on the import page (staging.stg_canonical_pupil_match_choices): the
-- pupil they chose is the match (method 'chosen'), or, marked "not one of ours", the rows
-- stay quarantined and say so. A UPN is never overridden, nor a single match.
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

-- Matching is one equality join on (school, method, identifier): each ref gives the
-- identifier its method uses, and each pupil on roll every identifier they can be found
-- by, a row each. One join with every method in an OR compared each ref with every pupil
-- at its school, more than half of a school day's matching time.
ref_ids as (
    select
        ref_key,
        school_urn,
        method,
        case method
            when 'upn' then upn_bidx
            when 'mis_id' then mis_id_bidx
            when 'name_and_dob' then pupil_name_dob_bidx
            else pupil_name_bidx
        end as id_value,
        case when method = 'name_and_group' then pupil_group else '' end as id_group
    from named
    where method in ('upn', 'mis_id', 'name_and_dob', 'name_and_group')
),

roll_ids as (
    select school_urn, upn_bidx, 'upn' as method, upn_bidx as id_value, '' as id_group
    from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'mis_id', mis_id_bidx, '' from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'mis_id', aggregator_id_bidx, ''
    from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'name_and_dob', name_dob_bidx, ''
    from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'name_and_dob', name_dob_reversed_bidx, ''
    from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'name_and_group', name_bidx, reg_group
    from staging.stg_canonical_pupil_roll
    union all
    select school_urn, upn_bidx, 'name_and_group', name_reversed_bidx, reg_group
    from staging.stg_canonical_pupil_roll
),

-- A pupil found by two identifiers (an MIS id equal to the aggregator id, a name that
-- reads the same both ways round) is one candidate: distinct by the roll's unique key.
candidates as (
    select n.ref_key, roll.pupil_key, roll.entry_date, roll.leaving_date
    from (
        select distinct r.ref_key, i.school_urn, i.upn_bidx
        from ref_ids as r
        inner join roll_ids as i
            on i.school_urn = r.school_urn and i.method = r.method
            and i.id_value = r.id_value and i.id_group = r.id_group
    ) as n
    inner join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = n.school_urn and roll.upn_bidx = n.upn_bidx
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
),

chosen as (
    -- The latest accepted choice per ref_key, with the chosen pupil's time on roll (the
    -- choice's own rules quarantine a pupil not on roll at the ref's school).
    select c.ref_key, c.decision, roll.pupil_key, roll.entry_date, roll.leaving_date
    from staging.stg_canonical_pupil_match_choices as c
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = c.school_urn and roll.pupil_key = c.pupil_key
    where c._is_current
),

settled as (
    select
        n.*,
        m.matches,
        m.pupil_key as matched_key,
        m.entry_date as matched_entry,
        m.leaving_date as matched_leaving,
        -- What a person may settle: a row naming the pupil without a UPN that matched no
        -- pupil or several.
        n.method in ('mis_id', 'name_and_dob', 'name_and_group', 'name_only')
            and coalesce(m.matches, 0) <> 1 as can_choose,
        ch.decision,
        ch.decision = 'pupil' and ch.pupil_key is not null as is_chosen,
        ch.pupil_key as chosen_key,
        ch.entry_date as chosen_entry,
        ch.leaving_date as chosen_leaving
    from named as n
    left join matched as m on m.ref_key = n.ref_key
    left join chosen as ch on ch.ref_key = n.ref_key
)

select
    n.ref_key,
    n.school_urn,
    case when n.can_choose and n.is_chosen then 'chosen' else n.method end as method,
    case
        when n.matches = 1 then n.matched_key
        when n.can_choose and n.is_chosen then n.chosen_key
    end as pupil_key,
    case
        when n.matches = 1 then n.matched_entry
        when n.can_choose and n.is_chosen then n.chosen_entry
    end as entry_date,
    case
        when n.matches = 1 then n.matched_leaving
        when n.can_choose and n.is_chosen then n.chosen_leaving
    end as leaving_date,
    n.can_choose,
    -- How many pupils on roll the identifiers matched (the import page says so in words).
    coalesce(n.matches, 0) as matches,
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
        when n.can_choose and n.is_chosen then null
        when n.can_choose and n.decision = 'not_ours'
            then 'was marked on the import page as not one of this school''s pupils'
        when n.method = 'none' then 'is missing: the row names no pupil (UPN, MIS id or name)'
        when n.method = 'name_only'
            then 'gives a name only: add the date of birth or class so the pupil is certain'
        when n.method = 'upn' and not coalesce(ps.upn_is_valid, false)
            then 'is not a valid UPN (13 characters with a correct check letter)'
        when n.method = 'name_and_dob' and n.pupil_dob_state = 'unparseable'
            then 'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)'
        when n.matches is null and n.method = 'upn'
            then 'is not a pupil on roll at this school (pupils.csv)'
        when n.matches is null then 'no pupil on roll at this school matches it'
        when n.matches > 1
            then 'matches ' || cast(n.matches as varchar)
                || ' pupils at this school: give the UPN or date of birth'
    end as problem_reason
from settled as n
left join raw.pupil_pseudonym as ps on ps.upn_bidx = n.upn_bidx
