-- grain: one row per pupil x school x rule x academic year that fired (SQL-evaluated rules)
select
    t.pupil_key,
    t.school_urn,
    t.rule_id,
    t.rule_label,
    t.kind,
    t.academic_year,
    t.first_fired_on,
    t.last_fired_on,
    t.weeks_fired,
    t.value_at_first,
    t.peak_value,
    t.threshold,
    t.window_start,
    t.window_end,
    t.window_weeks,
    t.latest_value,
    t.is_active,
    t.wording,
    t.evidence_source,
    r.window_school_weeks
from marts.safeguarding_trigger as t
left join meta.trigger_rules as r on r.rule_id = t.rule_id
where ($school_urn is null or t.school_urn = $school_urn)
    and ($pupil_key is null or t.pupil_key = $pupil_key)
order by t.school_urn, t.pupil_key, t.first_fired_on, t.rule_id
