"""Staging models declared once: the header states what is specific, this module writes the SQL.

A staging model is a ``.sql`` file whose YAML header (the same ``--`` header every model
has, see :mod:`empowered.warehouse.models`) declares, beside its grain and natural key:

    -- source: raw.canonical_observations     the one raw table its rows come from
    -- pupil_linked: true                      rows name a pupil: matching, rules 5/6 apply
    -- columns:                                 in order; parser, or parser: source column
    --   observation_id: trim
    --   observed_on: uk_date                   parsed; observed_on_raw beside it for the
    --                                            rules (stored too with keep_raw: true)
    --   observed_minute: {minutes: observed_time, raw: observed_time_raw}
    --   _plan_known: {sql: coalesce(pl.plan_id is not null, false)}
    -- rules:                                   numbered; a row reports its lowest number
    --   10: {required: observed_on}
    --   13: {parse: mood, min: 1, max: 5}
    --   16: {check: mood_raw is null and engagement_raw is null, column: mood,
    --        message: "is missing, and so is engagement"}

and after the header, only the joins that are truly the model's own (a catalogue lookup,
attendance codes by effective date), written against ``p``, the parsed row.

The declaration lives in the header rather than a sibling YAML file so that one file
still holds a model's whole contract and its own SQL, as for every other model, and the
dependency reader and the lead's incremental runner see one file per table.

Everything shared is written here, once: the source-tracking columns, the parsers, the
school check (rule 5), pupil matching on a key computed once per row (rule 6, and the
``on_roll`` rule 19), one predicate per rule, and the validation ending (duplicates as rule
90, the first problem below 100 rejects the row, the first from 100 up is a warning, and the
latest accepted row per natural key is current). Rules are evaluated as one CASE per row in
rule order rather than a union of issue rows joined back, so each raw value is read and
parsed once. Project functions (``parse_uk_date``, ``minutes_of``, ``yes_no``) are expanded
into portable SQL on the sqlglot tree, never as DuckDB macros, which Spark cannot run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

# What a parser does to the raw text; ``{x}`` is the raw column. Parsers that can fail keep
# the raw text beside the parsed value (a ``*_raw`` companion) so a rule can show it.
PARSERS: dict[str, str] = {
    "text": "{x}",
    "trim": "trim({x})",
    "upper": "upper(trim({x}))",
    "lower": "lower(trim({x}))",
    "integer": "try_cast(trim({x}) as integer)",
    "decimal": "try_cast(trim({x}) as double)",
    "uk_date": "parse_uk_date({x})",
    "minutes": "minutes_of({x})",
    "boolean": "yes_no({x})",
}
CAN_FAIL = {"integer", "decimal", "uk_date", "minutes", "boolean"}

DATE_MESSAGE = "is not a date (expected DD/MM/YYYY or YYYY-MM-DD)"
PARSE_MESSAGES = {
    "uk_date": DATE_MESSAGE,
    "minutes": "is not a time of day (expected HH:MM, 24-hour)",
    "boolean": "must be Y or N (or Yes/No)",
    "decimal": "is not a number",
}
ON_ROLL_MESSAGE = "is outside the pupil's time on roll at this school"

# Project functions: name -> (arity, portable SQL with {0}, {1}... for the arguments).
PROJECT_FUNCTIONS: dict[str, tuple[int, str]] = {
    "parse_uk_date": (
        1,
        """case
            when regexp_matches(trim({0}), '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')
                then try_cast(trim({0}) as date)
            when regexp_matches(trim({0}), '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}$')
                then try_cast(split_part(trim({0}), '/', 3) || '-'
                    || lpad(split_part(trim({0}), '/', 2), 2, '0') || '-'
                    || lpad(split_part(trim({0}), '/', 1), 2, '0') as date)
        end""",
    ),
    "minutes_of": (
        1,
        """case when regexp_matches(trim({0}), '^[0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}})?$')
            then try_cast(split_part(trim({0}), ':', 1) as integer) * 60
                + try_cast(split_part(trim({0}), ':', 2) as integer)
        end""",
    ),
    "yes_no": (
        1,
        """case
            when upper(trim({0})) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim({0})) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end""",
    ),
    # The six things a row may name a pupil by, as one text key: pupil matching
    # (staging.stg_canonical_pupil_refs) and every pupil-linked model compute it alike.
    "pupil_ref_key": (
        6,
        """concat_ws('|', coalesce({0}, ''), coalesce({1}, ''), coalesce({2}, ''),
            coalesce({3}, ''), coalesce({4}, ''), coalesce({5}, ''))""",
    ),
}


class SpecError(ValueError):
    """A staging declaration is malformed."""


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # over the raw row ``r`` (parsed) or, for ``sql`` columns, the typed row
    stage: str  # "parsed": computed from the raw row; "typed": after the model's joins
    parser: str | None
    raw: str | None  # the raw companion's name, if it has one
    keep: bool
    source: str | None = None  # the raw column it is parsed from
    # The raw companion is read by the rules; stored only when something downstream
    # reads it too (every stored column costs a write of millions of attendance rows).
    keep_raw: bool = False


@dataclass(frozen=True)
class Rule:
    number: int
    column: str  # the column a SENCo is told about
    value: str  # SQL for the value shown
    predicate: str  # SQL: true when the row breaks the rule
    reason: str  # SQL for the message


@dataclass(frozen=True)
class StagingSpec:
    source: str
    pupil_linked: bool
    school_checked: bool
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    joins: str
    needs_load_date: bool


def _quote(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


def _column(name: str, decl: Any) -> Column:
    keep = True
    keep_raw = False
    raw: str | None = None
    if isinstance(decl, str):
        parser, source = decl, name
    elif isinstance(decl, Mapping):
        options = dict(decl)
        keep = bool(options.pop("keep", True))
        keep_raw = bool(options.pop("keep_raw", False))
        raw_option = options.pop("raw", None)
        if "sql" in options:
            return Column(name, str(options["sql"]), "typed", None, None, keep)
        if len(options) != 1:
            raise SpecError(f"column {name}: give one parser, e.g. {{uk_date: source_column}}")
        [(parser, source)] = options.items()
        raw = str(raw_option) if raw_option else None
    else:
        raise SpecError(f"column {name}: expected a parser name or a mapping")
    if parser not in PARSERS:
        raise SpecError(f"column {name}: unknown parser {parser!r} ({', '.join(PARSERS)})")
    if parser in CAN_FAIL and raw is None:
        raw = f"{name}_raw"
    sql = PARSERS[parser].format(x=f"r.{source}")
    return Column(name, sql, "parsed", parser, raw, keep, str(source), keep_raw)


def _raw_of(column: Column | None) -> str | None:
    return column.raw if column else None


def _words(column: str) -> str:
    return column.replace("_", " ")


def _number_message(parser: str, low: Any, high: Any) -> str | None:
    """The message the models have always used for a number out of range (None: the
    declaration must state its own)."""
    whole = parser == "integer"
    if low == 0 and high is None:
        return "is not a number of zero or more"
    if whole and low is not None and high is not None:
        return f"is not a whole number from {low} to {high}"
    if whole and low is not None:
        return f"is not a whole number of {low} or more"
    if low is None and high is None:
        return "is not a whole number" if whole else PARSE_MESSAGES["decimal"]
    return None


def _rule(number: int, decl: Mapping[str, Any], columns: Mapping[str, Column]) -> Rule:
    d = dict(decl)
    kinds = [
        k
        for k in (
            "required",
            "not_blank",
            "parse",
            "allowed",
            "pattern",
            "lookup",
            "not_future",
            "on_roll",
            "after",
            "check",
        )
        if k in d and not (k == "required" and isinstance(d[k], bool))
    ]
    if len(kinds) != 1:
        raise SpecError(f"rule {number}: give exactly one kind of rule")
    kind = kinds[0]
    if kind == "check":
        if "column" not in d or not ("message" in d or "reason_sql" in d):
            raise SpecError(f"rule {number}: a check needs column and message")
        predicate = str(d["check"])
        col = columns.get(str(d.get("column")))
        target = str(d["column"])
    else:
        target = str(d[kind])
        col = columns.get(target)
        if col is None:
            raise SpecError(f"rule {number}: {target} is not a declared column")
    raw = _raw_of(col)
    shown = raw.removesuffix("_raw") if raw else target
    value = str(d.get("value", raw or target))
    required = bool(d.get("required", False))
    message: str | None = d.get("message")
    c = target
    if kind == "required":
        predicate = f"{c} is null"
        if col and col.parser == "uk_date":
            message = message or "is missing or " + DATE_MESSAGE
    elif kind == "not_blank":
        predicate = f"{c} is null or {c} = ''"
        message = message or "is missing"
    elif kind == "parse":
        parser = col.parser if col else None
        if parser not in CAN_FAIL:
            raise SpecError(f"rule {number}: {c} has no parser to fail")
        low, high = d.get("min"), d.get("max")
        fails = [f"{c} is null"]
        if parser == "minutes":
            fails += [f"{c} < 0", f"{c} >= 1440"]
        if low is not None:
            fails.append(f"{c} < {low}")
        if high is not None:
            fails.append(f"{c} > {high}")
        failing = " or ".join(fails)
        predicate = failing if required else f"{raw} is not null and ({failing})"
        if parser in ("integer", "decimal"):
            message = message or _number_message(parser, low, high)
        else:
            message = message or PARSE_MESSAGES[parser]
    elif kind == "allowed":
        values = [str(v) for v in d.get("values") or ()]
        if not values:
            raise SpecError(f"rule {number}: allowed needs values")
        listed = ", ".join(_quote(v) for v in values)
        predicate = (
            f"{c} is null or {c} not in ({listed})"
            if required
            else f"{c} is not null and {c} not in ({listed})"
        )
        message = message or "is not one of: " + ", ".join(values)
    elif kind == "pattern":
        regex = _quote(str(d["regex"]))
        predicate = (
            f"not regexp_matches(coalesce({c}, ''), {regex})"
            if required
            else f"{c} is not null and not regexp_matches({c}, {regex})"
        )
    elif kind == "lookup":
        known = str(d.get("known", f"_{c}_known"))
        predicate = f"not {known}" if required else f"{c} is not null and {c} <> '' and not {known}"
    elif kind == "not_future":
        # Judged against the day the batch landed, not today, so a row's verdict depends on
        # the row alone and a rebuild next year gives the same answer.
        predicate = f"{c} > _loaded_on"
        message = message or "is in the future"
    elif kind == "on_roll":
        predicate = f"{c} < _pupil_entry_date or {c} > _pupil_leaving_date"
        message = message or ON_ROLL_MESSAGE
    elif kind == "after":
        other = str(d["than"])
        predicate = f"{c} <= {other}" if d.get("strictly") else f"{c} < {other}"
        message = message or f"is before the {_words(other)}"
    if "reason_sql" in d:
        reason = str(d["reason_sql"])
    elif message is None:
        raise SpecError(f"rule {number}: state its message")
    else:
        reason = _quote(str(message))
    column_sql = str(d.get("column_sql", _quote(str(d.get("column", shown)))))
    return Rule(number, column_sql, value, predicate, reason)


# Rule 5 of every model whose rows belong to a school; the importer's verdict knows it.
SCHOOL_UNKNOWN = "is not a school EmpowerED+ has: set it up first (empowered school add)"


def parse_spec(header: Mapping[str, Any], body: str) -> StagingSpec:
    source = header.get("source")
    if not isinstance(source, str) or not source.startswith("raw."):
        raise SpecError("source must name one raw table, e.g. raw.canonical_observations")
    key = header.get("natural_key")
    if not isinstance(key, list) or not all(isinstance(k, str) and k.isidentifier() for k in key):
        raise SpecError("natural_key must be a list of column names")
    declared = header.get("columns") or {}
    if not isinstance(declared, Mapping):
        raise SpecError("columns must be a mapping of column name to parser")
    columns = [_column(str(n), d) for n, d in declared.items()]
    pupil_linked = bool(header.get("pupil_linked", False))
    school_checked = bool(header.get("school_checked", True))
    by_name = {c.name: c for c in columns}
    for shared in _shared_columns(pupil_linked, school_checked):
        by_name.setdefault(shared.name, shared)
    rules = [_rule(int(n), d, by_name) for n, d in (header.get("rules") or {}).items()]
    if school_checked:
        rules.append(
            Rule(
                5,
                "'school_urn'",
                "school_urn",
                "not _school_known",
                _quote(SCHOOL_UNKNOWN),
            )
        )
    if pupil_linked:
        rules.append(
            Rule(
                6,
                "_pupil_problem_column",
                "_pupil_problem_value",
                "_pupil_problem_reason is not null",
                "_pupil_problem_reason",
            )
        )
    numbers = [r.number for r in rules]
    if len(numbers) != len(set(numbers)) or 90 in numbers:
        raise SpecError("rule numbers must be unique; 5, 6 and 90 are the shared rules")
    return StagingSpec(
        source=source,
        pupil_linked=pupil_linked,
        school_checked=school_checked,
        natural_key=tuple(key),
        columns=tuple(columns),
        rules=tuple(sorted(rules, key=lambda r: r.number)),
        joins=body.strip(),
        needs_load_date=any("_loaded_on" in r.predicate for r in rules),
    )


def _shared_columns(pupil_linked: bool, school_checked: bool) -> list[Column]:
    cols: list[Column] = []
    if school_checked:
        cols.append(Column("school_urn", "trim(r.school_urn)", "parsed", "trim", None, True))
    if pupil_linked:
        cols.append(
            Column("pupil_group", "upper(trim(r.pupil_group))", "parsed", "upper", None, True)
        )
    return cols


# A pupil-linked row's identity (UPN, MIS id, name, date of birth) stays in raw, as
# landed ciphertext: staging matches on the blind indexes and keeps only the pupil key.
# Fewer copies of identity, and millions of attendance rows without four ciphertexts each.
PUPIL_MATCH = (
    ("pupil_key", "pupil_key"),
    ("_pupil_match_method", "method"),
    ("_pupil_problem_column", "problem_column"),
    ("_pupil_problem_value", "problem_value"),
    ("_pupil_problem_reason", "problem_reason"),
    ("_pupil_entry_date", "entry_date"),
    ("_pupil_leaving_date", "leaving_date"),
)
PUPIL_REF_KEY = (
    "pupil_ref_key(trim(r.school_urn), r.upn_bidx, r.mis_id_bidx, r.pupil_name_bidx, "
    "coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state), upper(trim(r.pupil_group)))"
)
TRACKING = ("_batch_id", "_source_row", "_source_item", "_source_file")
# Columns the rules read but nothing downstream does: not stored, since millions of
# attendance rows are written each full build and every stored column costs.
RULE_ONLY = ("_pupil_problem_", "_pupil_entry_date", "_pupil_leaving_date")
ENDING = (
    "_reject_column",
    "_reject_value",
    "_reject_reason",
    "_warning_column",
    "_warning_value",
    "_warning_reason",
)


def render(spec: StagingSpec) -> str:
    """The model's SQL with project functions still named (see :func:`expand`)."""
    parsed: list[str] = [f"r.{c}" for c in TRACKING]
    typed: list[str] = [f"p.{c}" for c in TRACKING]
    kept: list[str] = list(TRACKING)
    shared = _shared_columns(spec.pupil_linked, spec.school_checked)
    for col in shared:
        parsed.append(f"{col.sql} as {col.name}")
        typed.append(f"p.{col.name}")
        kept.append(col.name)
    joins = []
    if spec.pupil_linked:
        parsed.append(f"{PUPIL_REF_KEY} as _pupil_ref_key")
        typed += [f"ref.{src} as {name}" for name, src in PUPIL_MATCH]
        kept += [name for name, _ in PUPIL_MATCH if not name.startswith(RULE_ONLY)]
        joins.append(
            "left join staging.stg_canonical_pupil_refs as ref on ref.ref_key = p._pupil_ref_key"
        )
    if spec.school_checked:
        typed.append("sk.school_urn is not null as _school_known")
        joins.append(
            "left join staging.stg_canonical_school_list as sk on sk.school_urn = p.school_urn"
        )
    load_join = ""
    if spec.needs_load_date:
        parsed.append("cast(b.loaded_at as date) as _loaded_on")
        typed.append("p._loaded_on")
        load_join = "\n    left join meta.batches as b on b.batch_id = r._batch_id"
    for col in spec.columns:
        if col.stage == "parsed":
            parsed.append(f"{col.sql} as {col.name}")
            typed.append(f"p.{col.name}")
            if col.raw:
                parsed.append(f"r.{col.source} as {col.raw}")
                typed.append(f"p.{col.raw}")
        else:
            typed.append(f"{col.sql} as {col.name}")
        if col.keep:
            kept.append(col.name)
            if col.raw and col.keep_raw:
                kept.append(col.raw)
    key = ", ".join(spec.natural_key)
    last = spec.natural_key[-1]
    identity = last.removesuffix("_bidx")
    last_value = "'(withheld)'" if last.endswith("_bidx") else f"cast({last} as varchar)"
    key_words = ", ".join(_message_words(k.removesuffix("_bidx")) for k in spec.natural_key)
    duplicate = Rule(
        90,
        _quote(identity),
        "",
        "_key_occurrence > 1",
        f"'repeats row ' || cast(_first_row_with_key as varchar) || "
        f"{_quote(f' of this file (same {key_words})')}",
    )
    duplicate_value = last_value
    rejects = sorted(
        [r for r in spec.rules if r.number < 100] + [duplicate], key=lambda r: r.number
    )
    warnings = [r for r in spec.rules if r.number >= 100]

    def first(rules: list[Rule], part: Callable[[Rule], str], name: str) -> str:
        if not rules:
            return f"cast(null as varchar) as {name}"
        arms = "\n".join(
            f"            when _{name[1:].split('_')[0]}_rule = {r.number} then {part(r)}"
            for r in rules
        )
        return f"case\n{arms}\n        end as {name}"

    def value(rule: Rule) -> str:
        return duplicate_value if rule.number == 90 else f"cast({rule.value} as varchar)"

    def rule_number(rules: list[Rule], name: str) -> str:
        if not rules:
            return f"cast(null as integer) as {name}"
        arms = "\n".join(f"            when {r.predicate} then {r.number}" for r in rules)
        return f"case\n{arms}\n        end as {name}"

    newline = ",\n        "
    t_key = ", ".join(f"t.{k}" for k in spec.natural_key)

    def same_key(alias: str, other: str) -> str:
        # NULL keys group together (as a window's partition does), so compare null-safely.
        return " and ".join(
            f"{alias}.{k} is not distinct from {other}.{k}" for k in spec.natural_key
        )

    same_key_k = same_key("k", "t")
    same_key_ld = same_key("l", "d")
    return f"""with parsed as (
    -- Each raw value read and parsed once.
    select
        {newline.join(parsed)}
    from {spec.source} as r{load_join}
),

typed as (
    select
        {newline.join(typed)}
    from parsed as p
    {(chr(10) + "    ").join(joins + ([spec.joins] if spec.joins else []))}
),

repeated as (
    -- Natural keys seen more than once, in one batch or across batches. One aggregate
    -- over every row, not a window (a window sorts millions of rows where a hash table
    -- needs one pass), and it leaves a handful of keys: the rest need no numbering.
    select {key}
    from typed
    group by {key}
    having count(*) > 1
),

repeats as (
    -- Only the rows of repeated keys: numbered in file order within their batch (rule
    -- 90), with the rule each would break had it no repeat, to find their accepted rows.
    select
        _batch_id,
        _source_row,
        _source_item,
        {key},
        _first_row_with_key,
        _key_occurrence,
        {rule_number(rejects, "_reject_rule")}
    from (
        select
            t.*,
            min(t._source_row) over (partition by t._batch_id, {t_key}) as _first_row_with_key,
            row_number() over (
                partition by t._batch_id, {t_key} order by t._source_row, t._source_item
            ) as _key_occurrence
        from typed as t
        where exists (select 1 from repeated as k where {same_key_k})
    ) as t
),

resent as (
    -- Keys accepted from more than one batch: the latest batch's row is current. At
    -- most one row per batch and key is accepted (rule 90 rejects the repeats).
    select {key}, max(_batch_id) as _latest_batch
    from repeats
    where _reject_rule is null
    group by {key}
    having count(*) > 1
),

repeat_rows as (
    select d._batch_id, d._source_row, d._source_item, d._first_row_with_key,
        d._key_occurrence, l._latest_batch
    from repeats as d
    left join resent as l on {same_key_ld}
),

keyed as (
    select
        t.*,
        coalesce(d._first_row_with_key, t._source_row) as _first_row_with_key,
        coalesce(d._key_occurrence, 1) as _key_occurrence,
        d._latest_batch
    from typed as t
    left join repeat_rows as d
        on d._batch_id = t._batch_id and d._source_row = t._source_row
        and d._source_item = t._source_item
),

ruled as (
    -- The first rule each row breaks, in rule order: below 100 rejects, from 100 warns.
    select
        *,
        {rule_number(rejects, "_reject_rule")},
        {rule_number(warnings, "_warning_rule")}
    from keyed
),

checked as (
    select
        *,
        {first(rejects, lambda r: r.column, "_reject_column")},
        {first(rejects, value, "_reject_value")},
        {first(rejects, lambda r: r.reason, "_reject_reason")},
        {first(warnings, lambda r: r.column, "_warning_column")},
        {first(warnings, value, "_warning_value")},
        {first(warnings, lambda r: r.reason, "_warning_reason")}
    from ruled
)

select
    {newline.join(kept + list(ENDING))},
    _reject_reason is null
        and (_latest_batch is null or _batch_id = _latest_batch) as _is_current
from checked"""


_ACRONYMS = {"urn": "URN", "upn": "UPN", "id": "ID"}


def _message_words(column: str) -> str:
    return " ".join(_ACRONYMS.get(word, word) for word in column.split("_"))


@functools.cache
def _function_template(name: str) -> tuple[int, exp.Expr]:
    arity, sql = PROJECT_FUNCTIONS[name]
    args = [f"__arg{i}" for i in range(arity)]
    return arity, sqlglot.parse_one(sql.format(*args), read="duckdb")


def expand(sql: str | exp.Expr) -> exp.Expr:
    """Parse a model's SQL and expand every project function into portable SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in PROJECT_FUNCTIONS:
            arity, template = _function_template(str(node.name).lower())
            args: list[exp.Expr] = list(node.expressions)
            if len(args) != arity:
                raise SpecError(f"{node.name} takes {arity} argument(s), given {len(args)}")

            def put(n: exp.Expr) -> exp.Expr:
                if isinstance(n, exp.Column) and n.name.startswith("__arg") and not n.table:
                    return args[int(n.name[5:])].copy()
                return n

            return template.copy().transform(put, copy=False)
        return node

    return tree.transform(rewrite, copy=False)


def unknown_functions(tree: exp.Expr) -> set[str]:
    """Functions sqlglot does not know (it would pass them to Spark unchanged)."""
    return {str(n.name) for n in tree.find_all(exp.Anonymous)}


def _each(
    tree: exp.Expr,
    placeholder: str,
    arms: Iterable[tuple[str, str]],
    *,
    distinct: bool = False,
) -> exp.Expr:
    """Replace every SELECT reading ``placeholder`` by a UNION ALL (UNION if ``distinct``)
    of copies, one per (table, name) in ``arms``: the table read, and ``model_entity()``
    given the name."""
    arms = list(arms)

    def one(select: exp.Select, table: str, name: str) -> exp.Expr:
        def put(n: exp.Expr) -> exp.Expr:
            if isinstance(n, exp.Table) and f"{n.db}.{n.name}" == placeholder:
                return exp.to_table(table).as_(n.alias) if n.alias else exp.to_table(table)
            if isinstance(n, exp.Anonymous) and str(n.name).lower() == "model_entity":
                return exp.Literal.string(name)
            return n

        return select.copy().transform(put, copy=False)

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Select):
            source = node.args.get("from") or node.args.get("from_")
            table = source.this if source is not None else None
            if isinstance(table, exp.Table) and f"{table.db}.{table.name}" == placeholder:
                if not arms:
                    raise SpecError(f"nothing to put in place of {placeholder}")
                union: exp.Expr = one(node, *arms[0])
                for arm in arms[1:]:
                    copy = one(node, *arm)
                    copy.comments = None  # the comment is said once, on the first arm
                    union = exp.union(union, copy, distinct=distinct)
                return union
        return node

    return tree.transform(rewrite, copy=False)


@dataclass(frozen=True)
class Declared:
    """What other models need to know of a declared staging model."""

    name: str  # staging.stg_canonical_x
    entity: str  # x
    source: str
    pupil_linked: bool


def declared_models(
    staging_folder: Path, read_header: Callable[[Path], Mapping[str, Any]]
) -> list[Declared]:
    found = []
    for path in sorted(staging_folder.glob("*.sql")):
        header = read_header(path)
        if "source" in header and "natural_key" in header:
            found.append(
                Declared(
                    f"staging.{path.stem}",
                    path.stem.removeprefix("stg_canonical_"),
                    str(header["source"]),
                    bool(header.get("pupil_linked", False)),
                )
            )
    return found


def expand_each(tree: exp.Expr, declared: list[Declared]) -> exp.Expr:
    """``staging.each_validated_model`` and ``raw.each_pupil_linked_source``: placeholders a
    model reads once and that become one arm per declared staging model."""
    tree = _each(tree, "staging.each_validated_model", [(d.name, d.entity) for d in declared])
    return _each(
        tree,
        "raw.each_pupil_linked_source",
        [(d.source, d.entity) for d in declared if d.pupil_linked],
        distinct=True,
    )
