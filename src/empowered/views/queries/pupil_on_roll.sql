-- grain: at most one row: whether $pupil_key is on the roll at $school_urn (a choice of pupil may name no one else)
select 1 as on_roll
from staging.stg_canonical_pupil_roll
where school_urn = $school_urn and pupil_key = $pupil_key
