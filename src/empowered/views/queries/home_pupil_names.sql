-- grain: one row per pupil asked for (the few whose EHC review steps are on a home page), names still encrypted
select i.pupil_key, i.forename, i.surname
from core.pupil_identity as i
where list_contains($pupil_keys, i.pupil_key)
