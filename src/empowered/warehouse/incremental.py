"""Rebuilding part of a model in DuckDB: deletes and inserts instead of a full rebuild.

Three ways, chosen by the runner from the model's header and its inputs' changes
(empowered.warehouse.changes):

- **by batch** (staging models with a natural key): only the rows of new or altered
  batches are typed and validated, then appended; "current row per natural key" is
  recomputed only for the keys those batches touched.
- **by partition** (``incremental: {by: pupil_key}``): the rows whose partition column
  holds a changed value are deleted and computed again, reading only the matching rows of
  every input that has the column.
- **new keys** (``incremental: new_keys``, the pupil references): rows for keys the table
  has never held are computed from the new batches alone and added.

Each returns the change it made, found by comparing the affected rows before and after
(``EXCEPT ALL`` both ways), so a model whose rows came out the same stops the cascade.
The SQL a model runs is rewritten on its sqlglot tree: an input table becomes a filtered
subquery with the same alias, and the model's own SQL is otherwise untouched.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import sqlglot
from sqlglot import exp

from empowered.warehouse import sql_cache
from empowered.warehouse.changes import BATCH_COLUMN, WHOLE, Change
from empowered.warehouse.checks import Check
from empowered.warehouse.connection import in_transaction
from empowered.warehouse.models import Model
from empowered.warehouse.staging_spec import PUPIL_REF_KEY, expand

# The temp table holding the rows a partial rebuild wrote (its checks look at these).
WRITTEN = "_new_rows"

# The pupil references every pupil-linked staging model looks its rows' pupils up in, and
# the column that names a reference: tracked, so a change to some references (a pupil
# chosen on the import page) rebuilds only the batches whose rows name them.
PUPIL_REFS = "staging.stg_canonical_pupil_refs"
REF_COLUMN = "ref_key"

_PARTIAL_SQL_DDL = """CREATE TABLE IF NOT EXISTS meta.partial_sql (
    cache_key VARCHAR NOT NULL,
    sql VARCHAR NOT NULL
)"""

# Tables smaller than this are compared row for row after a full rebuild, so the change
# is described by keys rather than as whole; larger ones only by their digest.
EXACT_DIFF_ROWS = 250_000


def _values_table(column: str) -> str:
    return f"_changed_{column}"


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _in_changed(column: str, table: str | None = None) -> exp.Expression:
    """``column IN (SELECT v FROM _changed_<column>)``."""
    values = exp.select(_col("v")).from_(exp.to_table(_values_table(column)))
    return exp.In(this=_col(column, table), query=exp.Subquery(this=values))


def _since_table(column: str) -> str:
    return f"_since_{column}"


def _from_since(column: str, bound: str, table: str | None = None) -> exp.Expression:
    """``column >= (SELECT <bound> FROM _since_<column>)``: ``bound`` is ``read_from``
    (inputs) or ``write_from`` (the rows rebuilt)."""
    value = exp.select(_col(bound)).from_(exp.to_table(_since_table(column)))
    return exp.GTE(this=_col(column, table), expression=exp.Subquery(this=value))


def restrict_inputs(
    sql: str, filters: Mapping[str, str], since: Mapping[str, str] | None = None
) -> str:
    """Rewrite a model's SQL so each input in ``filters`` is read only where its column
    holds one of the changed values (``table -> column``) and, for an input in ``since``,
    where that column is at least the first value to read (``table -> column``)."""
    return _restricted(sql, tuple(sorted(filters.items())), tuple(sorted((since or {}).items())))


@functools.lru_cache(maxsize=512)
def _restricted(
    sql: str,
    filters_items: tuple[tuple[str, str], ...],
    since_items: tuple[tuple[str, str], ...] = (),
) -> str:
    # Cached: parsing a long model costs more than running it on a day's rows, and the
    # values themselves sit in temp tables, so the SQL for a model and inputs never varies.
    filters, since = dict(filters_items), dict(since_items)
    tree = sqlglot.parse_one(sql, read="duckdb")
    for table in list(tree.find_all(exp.Table)):
        name = f"{table.db}.{table.name}" if table.db else None
        column = filters.get(name) if name else None
        if name is None or column is None:
            continue
        alias = table.alias or table.name
        condition: exp.Expr = _in_changed(column)
        if name in since:
            condition = exp.and_(condition, _from_since(since[name], "read_from"))
        subquery = (
            exp.select(exp.Star())
            .from_(exp.table_(table.name, db=table.db))
            .where(condition)
            .subquery(alias)
        )
        table.replace(subquery)
    return tree.sql("duckdb")


def current_row_sql(table: str, natural_key: Collection[str]) -> str:
    """The rows whose ``_is_current`` must change, among those whose natural key is in
    ``_changed_keys``: each row as it is, with its new value as ``_new_current``.

    The same rule as the shared staging ending (templates/validated_rows.sql): among a
    key's accepted rows, the latest batch's (and within it the last row) is current.

    The rule is worked out on the key and row-id columns alone, and only the rows that
    flip are read whole: reading every column of every row sharing a changed key (a
    scan of all of them, as the join is applied after it) took 80-250 ms of a school
    day's observations, for usually no flip at all.
    """
    key = ", ".join(f'"{k}"' for k in natural_key)
    row_id = _ROW_ID.format(a="s", b="f")
    return f"""WITH ranked AS (
    SELECT _batch_id, _source_row, _source_item, _is_current,
        coalesce(_reject_reason IS NULL AND row_number() OVER (
            PARTITION BY {key}, _reject_reason IS NULL
            ORDER BY _batch_id DESC, _source_row DESC
        ) = 1, false) AS _new_current
    FROM {table} AS s WHERE {_has_changed_key("s", natural_key)}
),
flips AS (SELECT * FROM ranked WHERE _is_current IS DISTINCT FROM _new_current)
SELECT s.*, f._new_current FROM {table} AS s INNER JOIN flips AS f ON {row_id}"""


# A staging row is named by its batch, its row in the file and its item within the row.
_ROW_ID = (
    "{a}._batch_id = {b}._batch_id AND {a}._source_row = {b}._source_row "
    "AND {a}._source_item IS NOT DISTINCT FROM {b}._source_item"
)


def _has_changed_key(alias: str, natural_key: Collection[str]) -> str:
    match = " AND ".join(f'k."{c}" IS NOT DISTINCT FROM {alias}."{c}"' for c in natural_key)
    return f"EXISTS (SELECT 1 FROM _changed_keys AS k WHERE {match})"


def _new_keys_sql(
    sql: str, inputs: Mapping[str, str], table: str, unique_key: Collection[str]
) -> str:
    """The model's rows from the filtered inputs whose unique key the table lacks."""
    query = _query(restrict_inputs(sql, inputs))
    match = exp.and_(*[exp.EQ(this=_col(k, "held"), expression=_col(k, "m")) for k in unique_key])
    held = (
        exp.select(exp.Literal.number(1))
        .from_(exp.alias_(exp.to_table(table), "held", table=True))
        .where(match)
    )
    wrapped = (
        exp.select(exp.Star()).from_(query.subquery("m")).where(exp.not_(exp.Exists(this=held)))
    )
    return wrapped.sql("duckdb")


@functools.cache
def _naming_sql(source: str, values: str) -> str:
    # The school is the reference's first part: a cheap filter before the key is computed.
    key = expand(PUPIL_REF_KEY).sql("duckdb")
    return (
        f"SELECT DISTINCT r.{BATCH_COLUMN} FROM {source} AS r "
        f"WHERE trim(r.school_urn) IN (SELECT split_part(v, '|', 1) FROM {values}) "
        f"AND {key} IN (SELECT v FROM {values})"
    )


def _query(sql: str) -> exp.Query:
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Query), "a model is one query"
    return tree


# Checks that look at rows one by one (or one key at a time) can look at only the rows a
# partial rebuild wrote: the rows it did not touch passed them in the build that made them.
ROW_CHECKS = ("not_null", "accepted_values", "relationship")
KEY_CHECKS = ("unique", "current_row")


def _rewritten_whole(check: Check, model: Model) -> bool:
    """Whether every row sharing a unique key with a written row was written too: the key
    holds the column the rows were rewritten by (a partition, or the batch)."""
    if check.kind != "unique":
        return False
    if model.incremental and model.incremental.startswith("by:"):
        return model.incremental.removeprefix("by:") in model.unique_key
    return bool(model.natural_key) and BATCH_COLUMN in model.unique_key


def _partition_local(check: Check, model: Model) -> str | None:
    """The partition column when a custom check looks at one partition at a time: it reads
    only the model's table, without joins, windows or subqueries, and either row by row
    or grouped by the partition column. An error-severity check passed on the partitions a
    partial rebuild left alone, so it need look only at those rebuilt. A warning's count
    is recorded, so it always looks at the whole table."""
    if check.kind != "custom" or check.severity != "error":
        return None
    if not (model.incremental and model.incremental.startswith("by:")):
        return None
    column = model.incremental.removeprefix("by:")
    tree = sqlglot.parse_one(check.sql, read="duckdb")
    tables = list(tree.find_all(exp.Table))
    if len(tables) != 1 or f"{tables[0].db}.{tables[0].name}" != model.name:
        return None
    if len(list(tree.find_all(exp.Select))) != 1 or any(
        tree.find_all(exp.Join, exp.Window, exp.Subquery, exp.CTE, exp.SetOperation)
    ):
        return None
    group = tree.args.get("group")
    if group is None:
        return None if any(tree.find_all(exp.AggFunc)) else column
    grouped = {e.name for e in group.expressions if isinstance(e, exp.Column)}
    return column if column in grouped else None


@functools.lru_cache(maxsize=2048)
def restrict_check(check: Check, model: Model, rows: str) -> str:
    """A check's SQL looking only at the rows a partial rebuild wrote (the table ``rows``)
    or, for uniqueness, at every row sharing a key with them, or, for a custom check that
    looks at one partition at a time, at the rebuilt partitions; other checks unchanged."""
    schema, name = model.name.split(".", 1)
    local = _partition_local(check, model)
    if local is not None:
        tree = sqlglot.parse_one(check.sql, read="duckdb")
        [table] = list(tree.find_all(exp.Table))
        alias = table.alias or table.name
        if model.since is None and not model.natural_key:
            # The rows written are the rebuilt partitions whole: no need to find them
            # again in the table (a scan of it all, a third of a day's checks).
            table.replace(exp.alias_(exp.to_table(rows), alias, table=True))
            return tree.sql("duckdb")
        rebuilt = (
            exp.select(exp.Star()).from_(exp.table_(name, db=schema)).where(_in_changed(local))
        )
        table.replace(rebuilt.subquery(alias))
        return tree.sql("duckdb")
    if check.kind not in ROW_CHECKS + KEY_CHECKS:
        return check.sql
    tree = sqlglot.parse_one(check.sql, read="duckdb")
    for table in list(tree.find_all(exp.Table)):
        if (table.db, table.name) != (schema, name):
            continue
        alias = table.alias or table.name
        if check.kind in ROW_CHECKS or _rewritten_whole(check, model):
            table.replace(exp.alias_(exp.to_table(rows), alias, table=True))
            continue
        key = model.unique_key if check.kind == "unique" else model.natural_key
        # Equality, not IS NOT DISTINCT FROM, so the join is a plain hash join: key columns
        # are not null (their own checks say so) save in rows the current-row check skips.
        match = " AND ".join(f'w."{k}" = t."{k}"' for k in key)
        keyed = sqlglot.parse_one(
            f"SELECT * FROM {model.name} AS t "
            f"WHERE EXISTS (SELECT 1 FROM {rows} AS w WHERE {match})",
            read="duckdb",
        )
        assert isinstance(keyed, exp.Query)
        table.replace(keyed.subquery(alias))
    return tree.sql("duckdb")


@dataclass(frozen=True)
class Partitions:
    """The rows a partial rebuild replaces: those whose ``column`` holds one of ``values``
    and, with ``since`` (a column, its first changed value, the model's lookback), only
    those from that value on, computed from inputs read from the value less the lookback."""

    column: str
    values: Collection[Any]
    since: tuple[str, Any, int] | None = None

    def plan(
        self, model: Model, columns: Callable[[str], list[str]]
    ) -> tuple[dict[str, str], dict[str, str], str]:
        """The inputs to read only where the column holds a changed value, those to read
        only from the first value to read, and the condition on the rows replaced (SQL
        over the changed values' and the bounds' temp tables)."""
        inputs = {
            t: self.column
            for t in model.sources | model.depends_on
            if t != model.name and self.column in columns(t)
        }
        condition: exp.Expr = _in_changed(self.column)
        read_since: dict[str, str] = {}
        if self.since is not None:
            since_column = self.since[0]
            read_since = {t: since_column for t in inputs if since_column in columns(t)}
            condition = exp.and_(condition, _from_since(since_column, "write_from"))
        return inputs, read_since, condition.sql("duckdb")


def tracked_columns(models: Mapping[str, Model]) -> set[str]:
    """Columns whose changed values a build reports downstream: every partition column,
    every ``since`` column, and the pupil reference."""
    partitions = {
        m.incremental.removeprefix("by:")
        for m in models.values()
        if m.incremental and m.incremental.startswith("by:")
    }
    partitions |= {m.since[0] for m in models.values() if m.since}
    if PUPIL_REFS in models:
        partitions.add(REF_COLUMN)
    return partitions


class PartialWriter(Protocol):
    """What rebuilds part of a model on an engine: DuckDB's ``IncrementalWriter`` below,
    Spark's on the lake (empowered.warehouse.spark_incremental). The runner and
    empowered.warehouse.rebuild choose what to rebuild the same way for both."""

    def transaction(self) -> Any: ...
    def save(self) -> None: ...
    def restrict_check(self, check: Check, model: Model, rows: str) -> str: ...
    def columns(self, table: str) -> list[str]: ...
    def forget(self, table: str) -> None: ...
    def is_view(self, name: str) -> bool: ...
    def view_rows(self, model: Model, column: str, values: Collection[Any]) -> None: ...
    def by_batch(self, model: Model, source: str, batches: Collection[int]) -> Change | None: ...
    def batches_naming(self, source: str, refs: Collection[str]) -> set[int]: ...
    def by_partition(
        self, model: Model, part: Partitions, *, exact: bool = True
    ) -> Change | None: ...
    def new_keys(self, model: Model, batches: Collection[int]) -> Change | None: ...
    def keep_before(self, table: str) -> bool: ...
    def compare_with_before(self, table: str) -> Change | None: ...


class IncrementalWriter:
    """Partial rebuilds of models on one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tracked: Collection[str]) -> None:
        self.con = con
        # A caller's open transaction is the caller's: then models run inside it.
        self._own_transactions = not in_transaction(con)
        # Columns whose changed values are reported downstream: every partition column.
        self.tracked = tuple(sorted(set(tracked)))
        self._columns: dict[str, list[str]] = {}
        self._sqls: dict[str, str] | None = None
        self._unsaved: dict[str, str] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One model's rebuild (or the build's records) as one transaction.

        Each statement that writes would otherwise commit on its own, and every commit
        waits for the log to reach the disk (about 7 ms here): a partial rebuild deletes,
        inserts and, in staging, flips current rows, so a school day's rebuild ran about
        a hundred commits. A model that fails is rolled back whole, never left with its
        rows deleted and not yet written again. A transaction per model, not per build:
        DuckDB checkpoints at a commit whose writes would take the log past its limit,
        and a whole day's writes in one commit did so on every import. An import's own
        build is the exception: it runs inside the import's transaction (imports.run_import),
        so that a full disk or a kill leaves neither the rows nor half a rebuild; importing
        3,000 observations into the test trust took no longer that way (7-14 s against
        13-16 s, on a shared machine).
        """
        if not self._own_transactions:
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            # What this process read of the catalog may have been undone with it.
            self._columns.clear()
            self._sqls = None
            raise
        self.con.execute("COMMIT")

    def _sql(self, key: tuple[Any, ...], make: Callable[[], str]) -> str:
        """SQL written for a partial rebuild, kept in the warehouse (``meta.partial_sql``).

        Rewriting a model's SQL on its sqlglot tree costs a tenth of a second or more for a
        long model: more than running it on a day's rows. The result depends only on the
        SQL and the filters, so it is kept by their digest for every later build, in this
        process or another (an import from the command line starts afresh), and on disk
        with the model SQL (empowered.warehouse.sql_cache) for other warehouses: about a
        second of every first day's rebuild was spent writing it again.
        """
        # The code that writes it is part of the key: SQL written by an older version is
        # not used after an upgrade that writes it differently.
        keyed = [sql_cache.code_version(), key]
        digest = hashlib.sha256(json.dumps(keyed, default=str).encode("utf-8")).hexdigest()
        if self._sqls is None:
            self.con.execute(_PARTIAL_SQL_DDL)
            self._sqls = dict(
                self.con.execute("SELECT cache_key, sql FROM meta.partial_sql").fetchall()
            )
        found = self._sqls.get(digest)
        if found is None:
            # New to this warehouse (a fresh one, or the first partial rebuild since an
            # upgrade): any other warehouse or process that wrote it left it on disk.
            found = str(sql_cache.kept("partial", (digest,), make))
            self._sqls[digest] = found
            self._unsaved[digest] = found
        return found

    def save(self) -> None:
        """Keep the SQL written during this build (one statement, once it has run)."""
        if not self._unsaved:
            return
        self.con.execute(
            "INSERT INTO meta.partial_sql SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
            [list(self._unsaved), list(self._unsaved.values())],
        )
        self._unsaved.clear()

    def restrict_inputs(
        self, sql: str, filters: Mapping[str, str], since: Mapping[str, str] | None = None
    ) -> str:
        """``restrict_inputs``, kept (see ``_sql``)."""
        key = ("inputs", sql, sorted(filters.items()), sorted((since or {}).items()))
        return self._sql(key, lambda: restrict_inputs(sql, filters, since))

    def restrict_check(self, check: Check, model: Model, rows: str) -> str:
        """``restrict_check``, kept (see ``_sql``)."""
        if check.kind not in ROW_CHECKS + KEY_CHECKS + ("custom",):
            return check.sql
        key: tuple[Any, ...] = ("check", check.sql, check.kind, check.severity, model.name)
        key += (model.incremental,)
        key += (model.unique_key, model.natural_key, rows)
        return self._sql(key, lambda: restrict_check(check, model, rows))

    def columns(self, table: str) -> list[str]:
        """The table's columns in order ([] when it does not exist); read for every table
        at once, since the catalog is slow to ask one table at a time."""
        if not self._columns:
            rows = self.con.execute(
                "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
                "WHERE database_name = current_database() ORDER BY column_index"
            ).fetchall()
            for name, column in rows:
                self._columns.setdefault(name, []).append(column)
        if table not in self._columns:
            # One table's columns from a relation on it: asking the catalog scans every
            # column of every table, tens of milliseconds each time. A relation, not a
            # failing statement: a model added since the warehouse was built has no table
            # yet, and a failed statement would abort the model's transaction with it.
            try:
                relation = self.con.table(table)
            except duckdb.CatalogException:
                return []
            self._columns[table] = list(relation.columns)
        return self._columns[table]

    def forget(self, table: str) -> None:
        self._columns.pop(table, None)

    def _set_values(self, column: str, values: Collection[Any]) -> None:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_values_table(column)} AS SELECT unnest(?) AS v",
            [sorted(values)],
        )

    def _hashed(self, rows: str, table: str) -> str:
        """Each row of ``rows`` (a table or a query with ``table``'s columns) as a hash of
        the whole row, beside the tracked columns ``table`` has."""
        present = set(self.columns(table))
        kept = "".join(f', "{c}"' for c in self.tracked if c in present)
        return f"SELECT hash(x) AS _row_hash{kept} FROM {rows} AS x"

    def _changes_between(
        self, before: str, after: str, table: str, *, before_hashed: bool = False
    ) -> Change | None:
        """The change from one set of rows to another: None when they are the same.

        Rows are compared by a hash of the whole row, counted on each side (a multiset
        difference): far cheaper than EXCEPT ALL over wide rows, and a collision of two
        64-bit row hashes is not a risk worth a slower build. With ``before_hashed`` the
        rows before are already hashes (``_hashed``), kept instead of a copy of the rows.
        """
        present = set(self.columns(table))
        tracked = [c for c in self.tracked if c in present]
        b = f"SELECT * FROM {before}" if before_hashed else self._hashed(before, table)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _changed_rows AS
            WITH b AS ({b}),
            a AS ({self._hashed(after, table)}),
            differ AS (
                SELECT _row_hash FROM (
                    SELECT _row_hash, count(*) AS n FROM b GROUP BY _row_hash
                ) AS bn
                FULL JOIN (
                    SELECT _row_hash, count(*) AS n FROM a GROUP BY _row_hash
                ) AS an USING (_row_hash)
                WHERE bn.n IS DISTINCT FROM an.n
            )
            SELECT * FROM b WHERE _row_hash IN (SELECT _row_hash FROM differ)
            UNION ALL
            SELECT * FROM a WHERE _row_hash IN (SELECT _row_hash FROM differ)"""
        )
        count, keys = self._distinct("_changed_rows", tracked)
        return Change(keys=keys) if count else None

    def _distinct(
        self, table: str, columns: Collection[str]
    ) -> tuple[int, dict[str, frozenset[Any]]]:
        """The rows of ``table`` and the distinct values (NULL included) of each column,
        in one scan."""
        lists = "".join(f', list(DISTINCT "{c}")' for c in columns)
        [(count, *found)] = self.con.execute(f"SELECT count(*){lists} FROM {table}").fetchall()
        return int(count), {
            c: frozenset(values or ()) for c, values in zip(columns, found, strict=True)
        }

    def by_batch(self, model: Model, source: str, batches: Collection[int]) -> Change | None:
        """Retype and revalidate the rows of ``batches`` (new, altered or gone) of ``source``.

        The change is found from the few rows involved (those of the batches before and
        after, and those whose current flag flipped), never by scanning the table for
        every row with a touched key.
        """
        table = model.name
        self._set_values(BATCH_COLUMN, batches)
        in_batches = _in_changed(BATCH_COLUMN).sql("duckdb")
        new_rows = self.restrict_inputs(model.sql, {source: BATCH_COLUMN})
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {WRITTEN} AS {new_rows}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _removed AS SELECT * FROM {table} WHERE {in_batches}"
        )
        key = ", ".join(f'"{k}"' for k in model.natural_key)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _changed_keys AS
            SELECT DISTINCT {key} FROM {WRITTEN} UNION SELECT DISTINCT {key} FROM _removed"""
        )
        [(removed,)] = self.con.execute("SELECT count(*) FROM _removed").fetchall()
        if removed:
            self.con.execute(f"DELETE FROM {table} WHERE {in_batches}")
        self.con.execute(f"INSERT INTO {table} SELECT * FROM {WRITTEN}")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _flips AS " + current_row_sql(table, model.natural_key)
        )
        self.con.execute(
            f"UPDATE {table} AS t SET _is_current = f._new_current FROM _flips AS f "
            f"WHERE {_ROW_ID.format(a='t', b='f')}"
        )
        # Before: the batches' old rows and the flipped rows as they were; after: the
        # batches' new rows and the flipped rows as they are now.
        outside = f"NOT ({in_batches})"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _before AS
            SELECT * FROM _removed
            UNION ALL SELECT * EXCLUDE (_new_current) FROM _flips WHERE {outside}"""
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _after AS
            SELECT w.* REPLACE (coalesce(f._new_current, w._is_current) AS _is_current)
            FROM {WRITTEN} AS w LEFT JOIN _flips AS f ON {_ROW_ID.format(a="w", b="f")}
            UNION ALL
            SELECT * EXCLUDE (_new_current) REPLACE (_new_current AS _is_current)
            FROM _flips WHERE {outside}"""
        )
        return self._changes_between("_before", "_after", table)

    def batches_naming(self, source: str, refs: Collection[str]) -> set[int]:
        """The batches of a pupil-linked raw table with a row naming one of ``refs``,
        each row's reference computed as staging computes it (staging_spec)."""
        self._set_values(REF_COLUMN, refs)
        found = self.con.execute(_naming_sql(source, _values_table(REF_COLUMN))).fetchall()
        return {int(b) for (b,) in found}

    def by_partition(self, model: Model, part: Partitions, *, exact: bool = True) -> Change | None:
        """Recompute the rows of the partitions ``part`` names. Without ``exact`` the
        rows are not compared before and after: the change is whole."""
        table = model.name
        self._set_values(part.column, part.values)
        if part.since is not None:
            since_column, first, lookback = part.since
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_since_table(since_column)} AS "
                "SELECT ? - ? AS read_from, ? AS write_from",
                [first, lookback, first],
            )
        inputs, read_since, where = part.plan(model, self.columns)
        restricted = self.restrict_inputs(model.sql, inputs, read_since)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {WRITTEN} AS "
            f"SELECT * FROM ({restricted}) AS m WHERE {where}"
        )
        if exact:
            # The rows replaced are kept as hashes only: a copy of them (wide rows, for
            # every pupil a day touches) cost more than the comparison it was kept for.
            rows = f"(SELECT * FROM {table} WHERE {where})"
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS {self._hashed(rows, table)}")
        self.con.execute(f"DELETE FROM {table} WHERE {where}")
        self.con.execute(f"INSERT INTO {table} SELECT * FROM {WRITTEN}")
        if not exact:
            return WHOLE
        return self._changes_between("_before", WRITTEN, table, before_hashed=True)

    def new_keys(self, model: Model, batches: Collection[int]) -> Change | None:
        """Add the rows for keys first seen in ``batches``; the rows already held stay."""
        table = model.name
        self._set_values(BATCH_COLUMN, batches)
        inputs = {
            t: BATCH_COLUMN
            for t in model.sources
            if t.startswith("raw.") and BATCH_COLUMN in self.columns(t)
        }
        wrapped = self._sql(
            ("new_keys", model.sql, sorted(inputs.items()), table, model.unique_key),
            lambda: _new_keys_sql(model.sql, inputs, table, model.unique_key),
        )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {WRITTEN} AS {wrapped}")
        [(count,)] = self.con.execute(f"SELECT count(*) FROM {WRITTEN}").fetchall()
        if not count:
            return None
        self.con.execute(f"INSERT INTO {table} SELECT * FROM {WRITTEN}")
        present = set(self.columns(table))
        _, keys = self._distinct(WRITTEN, [c for c in self.tracked if c in present])
        return Change(keys=keys, appended_only=True)

    def is_view(self, name: str) -> bool:
        schema, view = name.split(".", 1)
        [(found,)] = self.con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = ? AND view_name = ?",
            [schema, view],
        ).fetchall()
        return bool(found)

    def view_rows(self, model: Model, column: str, values: Collection[Any]) -> None:
        """A view's rows whose ``column`` holds one of ``values``, kept as the rows written
        (``WRITTEN``) for its checks to look at."""
        self._set_values(column, values)
        where = _in_changed(column).sql("duckdb")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {WRITTEN} AS SELECT * FROM {model.name} WHERE {where}"
        )

    def keep_before(self, table: str) -> bool:
        """Before a full rebuild: keep a copy of a small table to compare with afterwards."""
        self.forget(table)
        if not self.columns(table):
            return False
        [(count,)] = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()
        if count > EXACT_DIFF_ROWS:
            return False
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS SELECT * FROM {table}")
        return True

    def compare_with_before(self, table: str) -> Change | None:
        self.forget(table)
        [(count,)] = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()
        if count > EXACT_DIFF_ROWS:
            return WHOLE
        try:
            return self._changes_between("_before", table, table)
        except duckdb.Error:
            # The rebuilt table's columns differ from the copy (a changed model): whole.
            return WHOLE
