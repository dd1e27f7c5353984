-- grain: one row per pupil per school, for pupils accepted from pupils.csv
-- unique_key: [school_urn, upn]
-- not_null: [school_urn, upn, pupil_key]
-- What pupil matching compares against: every identifier a source might use for a pupil
-- on roll. Names are compared without spaces and punctuation, as "forename surname" or
-- "surname forename"; accents are kept, so "Zoe" does not silently match "Zoë".
-- reg_group is the pupil's latest registration group, read straight from the landed
-- characteristics because staging characteristics itself depends on pupil matching.
with latest_group as (
    select school_urn, upn, reg_group
    from (
        select
            trim(c.school_urn) as school_urn,
            upper(trim(c.upn)) as upn,
            upper(trim(c.reg_group)) as reg_group,
            row_number() over (
                partition by trim(c.school_urn), upper(trim(c.upn))
                order by c.effective_date desc, c._batch_id desc, c._source_row desc
            ) as n
        from raw.canonical_characteristics as c
        where c.upn is not null and c.reg_group is not null
    ) as ranked
    where n = 1
)

select
    p.school_urn,
    p.upn,
    p.pupil_key,
    nullif(p.mis_id, '') as mis_id,
    regexp_replace(lower(p.forename || p.surname), '[ ,.''-]', '', 'g') as name_key,
    regexp_replace(lower(p.surname || p.forename), '[ ,.''-]', '', 'g') as name_key_reversed,
    p.date_of_birth,
    g.reg_group,
    p.entry_date,
    p.leaving_date
from staging.stg_canonical_pupils as p
left join latest_group as g on g.school_urn = p.school_urn and g.upn = p.upn
where p._is_current
