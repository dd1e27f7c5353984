-- grain: deletes the stored results of schools no longer in the warehouse
delete from app.analytics_results
where not list_contains($school_urns, school_urn)
