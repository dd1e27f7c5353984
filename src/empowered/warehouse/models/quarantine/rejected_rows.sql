-- grain: one row per landed source row that was rejected, with the first problem found
-- unique_key: [batch_id, source_row, source_item]
-- not_null: [entity, batch_id, source_file, source_row, column_name, reason]
-- Every landed row ends either accepted (staging, _reject_reason null) or here, so for each
-- batch: rows landed = rows accepted + rows quarantined.
select 'schools' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_schools where _reject_reason is not null
union all
select 'pupils' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_pupils where _reject_reason is not null
union all
select 'characteristics' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_characteristics where _reject_reason is not null
union all
select 'sen_status' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_sen_status where _reject_reason is not null
union all
select 'terms' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_terms where _reject_reason is not null
union all
select 'closures' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_closures where _reject_reason is not null
union all
select 'periods' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_periods where _reject_reason is not null
union all
select 'staff' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_staff where _reject_reason is not null
union all
select 'staff_training' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_staff_training where _reject_reason is not null
union all
select 'strategies' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_strategies where _reject_reason is not null
union all
select 'interventions' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_interventions where _reject_reason is not null
union all
select 'observations' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_observations where _reject_reason is not null
union all
select 'incidents' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_incidents where _reject_reason is not null
union all
select 'strategy_uses' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_strategy_uses where _reject_reason is not null
union all
select 'attendance' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_attendance where _reject_reason is not null
union all
select 'assessments' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_assessments where _reject_reason is not null
union all
select 'exclusions' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_exclusions where _reject_reason is not null
union all
select 'provision_enrolments' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_provision_enrolments where _reject_reason is not null
union all
select 'provision_sessions' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_provision_sessions where _reject_reason is not null
union all
select 'plans' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_plans where _reject_reason is not null
union all
select 'plan_outcomes' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_plan_outcomes where _reject_reason is not null
union all
select 'plan_reviews' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_plan_reviews where _reject_reason is not null
union all
select 'actions' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_actions where _reject_reason is not null
union all
select 'groups' as entity, _batch_id as batch_id, _source_file as source_file, _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.stg_canonical_groups where _reject_reason is not null
