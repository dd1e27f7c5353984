-- grain: one row per landed source row that was rejected, with the first problem found
-- unique_key: [batch_id, source_row, source_item]
-- not_null: [entity, batch_id, source_file, source_row, column_name, reason]
-- Every landed row ends either accepted (staging, _reject_reason null) or here, so for each
-- batch: rows landed = rows accepted + rows quarantined.
-- One arm per validated staging model (staging_spec.expand_each).
select model_entity() as entity, _batch_id as batch_id, _source_file as source_file,
    _source_row as source_row, _source_item as source_item,
    _reject_column as column_name, _reject_value as value, _reject_reason as reason
from staging.each_validated_model where _reject_reason is not null
