-- grain: one row per import made through the server (upload or inbox), newest first
-- Shown to whoever made it, and to a scope that covers the school chosen for it (or the
-- trust, for an import with no school chosen).
select import_id, via, user_id, username, school_urn, source, files, status, message,
    rows_accepted, rows_quarantined, started_at, finished_at
from app.imports
where ($import_id is null or import_id = $import_id)
    and (
        $scope_schools is null
        or user_id = $user_id
        or (school_urn is not null and list_contains($scope_schools, school_urn))
    )
order by import_id desc
limit $limit
