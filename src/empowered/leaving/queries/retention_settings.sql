-- grain: one row per kind of record whose keeping time was set on the admin page
select category, years, saved_by, saved_at from app.retention_settings order by category
