-- grain: one row per EEF cost band (per pupil per year)
select band, min_cost_per_pupil, max_cost_per_pupil, source
from reference.eef_cost_band
order by min_cost_per_pupil
