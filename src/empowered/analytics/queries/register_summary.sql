-- grain: one row per school, or the trust row (school_urn 'TRUST')
select
    s.school_urn,
    s.as_of_date,
    s.academic_year,
    s.pupils_on_roll,
    s.no_sen,
    s.sen_support,
    s.ehc_plan
from marts.register_school_summary as s
where s.school_urn = $scope
