-- grain: one row: how many audit entries were written before $cutoff.
select count(*) as n from app.audit_log where "at" < $cutoff
