-- grain: one row per training course completed by a member of staff
-- unique_key: [school_urn, staff_id, area_of_need, course, completed_on]
-- not_null: [school_urn, staff_id, area_of_need]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   area_of_need: reference.sen_need.code
select
    t.school_urn,
    t.staff_id,
    s.role as staff_role,
    t.area_of_need,
    t.course,
    t.completed_on
from staging.stg_canonical_staff_training as t
left join core.dim_staff as s on s.school_urn = t.school_urn and s.staff_id = t.staff_id
where t._is_current
