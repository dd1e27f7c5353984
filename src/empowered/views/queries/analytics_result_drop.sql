-- grain: deletes the stored results of one kind for one school (before a newer one lands)
delete from app.analytics_results
where kind = $kind and school_urn = $school_urn
