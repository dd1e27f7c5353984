-- grain: one row per pupil on roll at one school in scope: their primary need and its
-- broad area of need (SEND Code of Practice), for grouping "what helps whom"
select
    r.pupil_key,
    r.primary_need,
    r.primary_need_name,
    coalesce(b.name, 'No primary need recorded') as area_of_need
from marts.register_pupil as r
left join reference.broad_area as b on b.code = r.primary_broad_area
where r.school_urn = $school_urn
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
