-- grain: deletes the stored results of kinds the server no longer keeps (their pages now
-- read a smaller result kept under another kind), so they do not sit in the warehouse
delete from app.analytics_results
where list_contains($kinds, kind)
