-- grain: one row per accepted source row that carries a warning (e.g. an old code mapped)
-- unique_key: [batch_id, source_row, source_item]
-- not_null: [entity, batch_id, source_file, source_row, column_name, reason]
-- These rows are in the warehouse; the import report shows them so a SENCo can check.
-- One arm per validated staging model (staging_spec.expand_each).
select model_entity() as entity, _batch_id as batch_id, _source_file as source_file,
    _source_row as source_row, _source_item as source_item,
    _warning_column as column_name, _warning_value as value, _warning_reason as reason
from staging.each_validated_model where _reject_reason is null and _warning_reason is not null
