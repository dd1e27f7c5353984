-- grain: one row per analytics kind per school ('' for the whole trust): its latest result
-- Results the server computed, kept with the fingerprint of the inputs they came from
-- (views/inputs.py), so a restart or a rebuild that left a school's inputs alone reuses
-- them. Pseudonymous analytics only (pupil keys, counts, wording), never identity.
create schema if not exists app;
create table if not exists app.analytics_results (
    kind varchar not null,
    school_urn varchar not null,
    inputs varchar not null,
    value blob not null,
    saved_at timestamp not null
);
