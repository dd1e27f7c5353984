-- The shared ending of every staging model that declares a natural_key.
--
-- The model itself supplies two CTEs: `typed` (every landed row, typed, with raw copies
-- of the values it checks) and `issues` (one row per problem: _batch_id, _source_row, rule,
-- column_name, value, reason; plus _source_item when a source row holds several records).
-- This ending adds the duplicate rule, keeps every landed row,
-- gives each rejected row its first problem (lowest rule number below 100) and marks, among
-- accepted rows, the latest batch's row for each natural key as _is_current. Rules numbered
-- 100 and up are warnings: the row is accepted and its first warning is kept beside it. Placeholders in braces
-- are filled from the model's own header, never from data.
,

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, {key}) as _first_row_with_key,
        row_number() over (
            partition by _batch_id, {key} order by _source_row, _source_item
        ) as _key_occurrence
    from typed
),

all_issues as (
    select _batch_id, _source_row, _source_item, rule, column_name, value, reason
    from issues
    union all
    select _batch_id, _source_row, _source_item, 90, '{last_column}', {last_value},
        'repeats row ' || cast(_first_row_with_key as varchar)
        || ' of this file (same {key_words})'
    from keyed
    where _key_occurrence > 1
),

first_issue as (
    select *, row_number() over (
        partition by _batch_id, _source_row, _source_item, rule >= 100
        order by rule, column_name
    ) as n
    from all_issues
),

checked as (
    select
        t.*,
        i.column_name as _reject_column,
        i.value as _reject_value,
        i.reason as _reject_reason,
        w.column_name as _warning_column,
        w.value as _warning_value,
        w.reason as _warning_reason
    from keyed as t
    left join first_issue as i
        on i._batch_id = t._batch_id and i._source_row = t._source_row
        and i._source_item = t._source_item and i.n = 1 and i.rule < 100
    left join first_issue as w
        on w._batch_id = t._batch_id and w._source_row = t._source_row
        and w._source_item = t._source_item and w.n = 1 and w.rule >= 100
)

select
    *,
    coalesce(_reject_reason is null and row_number() over (
        partition by {key}, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
