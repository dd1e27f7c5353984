-- grain: deletes a school's stored results computed from other inputs than the current ones
-- (after a rebuild or a retention purge changed them: nothing outlives its inputs)
delete from app.analytics_results
where school_urn = $school_urn and inputs <> $inputs
