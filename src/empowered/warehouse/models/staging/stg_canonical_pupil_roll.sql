-- grain: one row per pupil per school, for pupils accepted from pupils.csv
-- unique_key: [school_urn, upn_bidx]
-- not_null: [school_urn, upn_bidx, pupil_key]
-- What pupil matching compares against: every identifier a source might use for a pupil
-- on roll, as the blind indexes landing computed (empowered.sources.protect). Names are
-- compared without spaces and punctuation, as "forename surname" or "surname forename";
-- accents are kept, so "Zoe" does not silently match "Zoë".
-- reg_group is the pupil's latest registration group, read straight from the landed
-- characteristics because staging characteristics itself depends on pupil matching.
with latest_group as (
    select school_urn, upn_bidx, reg_group
    from (
        select
            trim(c.school_urn) as school_urn,
            c.upn_bidx,
            upper(trim(c.reg_group)) as reg_group,
            row_number() over (
                partition by trim(c.school_urn), c.upn_bidx
                order by c.effective_date desc, c._batch_id desc, c._source_row desc
            ) as n
        from raw.canonical_characteristics as c
        where c.upn_bidx is not null and c.reg_group is not null
    ) as ranked
    where n = 1
)

select
    p.school_urn,
    p.upn_bidx,
    p.pupil_key,
    p.mis_id_bidx,
    p.aggregator_id_bidx,
    p.name_bidx,
    p.name_reversed_bidx,
    p.name_dob_bidx,
    p.name_dob_reversed_bidx,
    g.reg_group,
    p.entry_date,
    p.leaving_date
from staging.stg_canonical_pupils as p
left join latest_group as g on g.school_urn = p.school_urn and g.upn_bidx = p.upn_bidx
where p._is_current
