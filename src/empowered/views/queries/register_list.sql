-- grain: one row per pupil on roll in scope (marts.register_pupil), with a name only for identified scopes
-- (forename and surname encrypted: the register view decrypts them through empowered.identity)
-- Filters are bound parameters; a NULL filter is not applied.
select
    r.pupil_key,
    r.school_urn,
    case when $identified then i.forename end as forename,
    case when $identified then i.surname end as surname,
    r.year_group,
    r.sen_provision,
    r.sen_provision_name,
    r.primary_need,
    r.primary_need_name,
    r.on_register,
    r.pupil_premium,
    r.is_eal,
    r.attendance_rate,
    r.attendance_source_text,
    r.has_current_plan,
    r.current_plan_type,
    r.review_overdue,
    r.provision_count,
    r.provision_codes
from marts.register_pupil as r
left join core.pupil_identity as i on $identified and i.pupil_key = r.pupil_key
left join reference.year_group as y on y.code = r.year_group
where ($on_register_only is null or not $on_register_only or r.on_register)
    and ($need is null or r.primary_need = $need)
    and ($broad_area is null or r.primary_broad_area = $broad_area)
    and ($provision_code is null or list_contains(string_split(coalesce(r.provision_codes, ''), ','), $provision_code))
    and ($year_group is null or r.year_group = $year_group)
    and ($pupil_premium is null or coalesce(r.pupil_premium, false) = $pupil_premium)
    and ($eal is null or coalesce(r.is_eal, false) = $eal)
    and ($attendance_below is null or r.attendance_rate < $attendance_below)
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
-- Year groups in school order (Nursery, Reception, Year 1 ...), not as text ("R" after "6").
order by r.school_urn, coalesce(y.sort_order, 999), r.year_group, r.pupil_key
