-- grain: inserts one stored result
insert into app.analytics_results (kind, school_urn, inputs, value, saved_at)
values ($kind, $school_urn, $inputs, $value, current_timestamp)
