"""SQL models: discovery, header parsing and the dependency graph.

A model is one ``.sql`` file; the folder it sits in is its layer and its schema, the file
name is its table. The file starts with a YAML header in ``--`` comments that states the
grain, the unique key and the checks, so the contract sits beside the SQL it describes::

    -- grain: one row per pupil
    -- unique_key: [pupil_key]
    -- not_null: [pupil_key, school_key]
    -- relationships:
    --   school_key: core.dim_school.school_key
    -- accepted_values:
    --   sen_provision: [E, K, N]
    -- checks:
    --   - name: ends_after_it_starts
    --     sql: select * from core.dim_x where valid_to <= valid_from

Dependencies are read from the SQL itself with sqlglot, so they can never drift from it.
"""

from __future__ import annotations

import dataclasses
import functools
import graphlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from empowered.warehouse import sql_cache
from empowered.warehouse.checks import Check, checks_from_header

# Layers built by the runner, in the order data flows through them.
MODEL_LAYERS = ("staging", "core", "marts", "quarantine")
# Tables the models read but do not build: landed source rows, DfE seeds, and the landing
# bookkeeping (meta.batches) that the nothing-lost check counts against.
SOURCE_SCHEMAS = ("raw", "reference", "meta")


class ModelError(Exception):
    """A model file is malformed: bad header, unparseable SQL or an unknown dependency."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)


@dataclass(frozen=True)
class Model:
    name: str  # schema-qualified table name, e.g. "core.dim_pupil"
    layer: str
    path: Path
    sql: str
    grain: str
    unique_key: tuple[str, ...]
    checks: tuple[Check, ...]
    depends_on: frozenset[str]
    sources: frozenset[str] = field(default_factory=frozenset)
    # The key staging keeps one current row per (empty outside staging).
    natural_key: tuple[str, ...] = ()
    # How an incremental build may rebuild it (empowered.warehouse.incremental):
    # "by:<column>" rebuilds only the rows whose column holds a changed value;
    # "new_keys" adds rows for keys it has never held; None rebuilds in full.
    incremental: str | None = None
    # With "by:<column>": (a column ordering the partition's rows, how far back a row
    # reads): only rows from the earliest changed value of it on are rebuilt.
    since: tuple[str, int] | None = None
    # With ``since`` and ``block: n`` (instead of a lookback): the since column's values
    # come in blocks of n (1..n, n+1..2n, ...) and each row holds its block's last value,
    # computed from its block's inputs alone: a change at w reads inputs from the start of
    # w's block (the lookback is however far into its block w is).
    block: int | None = None
    # ``materialized: view``: stored as a view over its inputs, not a table (a fact that
    # only selects one input's rows and looks up a few columns, so not a second copy).
    view: bool = False

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]


def default_models_root() -> Path:
    return Path(str(resources.files("empowered.warehouse") / "models"))


# libyaml's loader where it is built in: headers are read on every discovery.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HEADER_KEY = re.compile(r"^[a-z_]+:")


def _split_header(text: str) -> tuple[str, str]:
    """Split a model file into its YAML header and its SQL body.

    The header is the leading run of ``-- key: ...`` comment lines and their indented
    continuations; the first comment line that is neither (free prose explaining why)
    ends it. Prose comments stay in the SQL body, where they belong.
    """
    lines = text.splitlines()
    header_lines: list[str] = []
    i = 0
    while i < len(lines) and lines[i].startswith("--"):
        content = lines[i][3:] if lines[i].startswith("-- ") else lines[i][2:]
        if not (_HEADER_KEY.match(content) or (content.startswith(" ") and header_lines)):
            break
        if content.startswith("grain:"):
            # The grain is prose and may hold colons: take it literally, not as YAML.
            content = "grain: " + json.dumps(content[len("grain:") :].strip())
        header_lines.append(content)
        i += 1
    return "\n".join(header_lines), "\n".join(lines[i:]).strip().rstrip(";")


@functools.lru_cache(maxsize=512)
def _referenced_tables(sql: str, path: Path) -> frozenset[str]:
    return frozenset(sql_cache.kept("tables", (sql,), lambda: sorted(_tables_read(sql, path))))


def _tables_read(sql: str, path: Path) -> set[str]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise ModelError(path, f"SQL does not parse: {err}") from err
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    found: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not table.db:
            if table.name not in ctes:
                raise ModelError(path, f"table {table.name!r} must be schema-qualified")
            continue
        found.add(f"{table.db}.{table.name}")
    return found


def read_header(path: Path) -> dict[str, Any]:
    header_text, _ = _split_header(path.read_text(encoding="utf-8"))
    header = yaml.load(header_text, Loader=_YAML_LOADER) or {}
    return header if isinstance(header, dict) else {}


def _declared_sql(header: dict[str, Any], body: str, path: Path) -> str:
    """Staging and quarantine SQL from their declarations (empowered.warehouse.staging_spec):
    a staging header with a ``source`` is written out in full, and project functions and
    the per-model placeholders quarantine reads are expanded on the sqlglot tree.

    Writing it out costs a few seconds for all models, so the result is kept for as long
    as the file (and, for quarantine, the staging declarations it reads) is unchanged:
    an incremental build discovers the models on every import."""
    staging = path.parent.parent / "staging"
    siblings = (
        tuple(sorted((p.name, p.stat().st_mtime_ns) for p in staging.glob("*.sql")))
        if "each_" in body
        else ()
    )
    return _written_sql(json.dumps(header, sort_keys=True, default=str), body, path, siblings)


@functools.lru_cache(maxsize=512)
def _written_sql(
    header_json: str, body: str, path: Path, siblings: tuple[tuple[str, int], ...]
) -> str:
    # Kept on disk by content: the staging files' text stands in for their mtimes.
    staging = path.parent.parent / "staging"
    declarations = tuple((staging / name).read_text(encoding="utf-8") for name, _ in siblings)
    parts = (header_json, body, *declarations)
    written = sql_cache.kept("sql", parts, lambda: _write_sql(header_json, body, path))
    assert isinstance(written, str)
    return written


def _write_sql(header_json: str, body: str, path: Path) -> str:
    from empowered.warehouse import staging_spec

    header = json.loads(header_json)

    try:
        if "source" in header:
            body = staging_spec.render(staging_spec.parse_spec(header, body))
        elif "natural_key" in header:
            raise ModelError(path, "a natural_key is validated from a declaration: state source")
        tree = sqlglot.parse_one(body, read="duckdb")
        if "each_" in body:
            declared = staging_spec.declared_models(path.parent.parent / "staging", read_header)
            tree = staging_spec.expand_each(tree, declared)
        return staging_spec.expand(tree).sql(dialect="duckdb", pretty=True)
    except (staging_spec.SpecError, sqlglot.errors.ParseError) as err:
        raise ModelError(path, str(err)) from err


def load_model(path: Path, layer: str) -> Model:
    text = path.read_text(encoding="utf-8")
    return _loaded(path, layer, text, _staging_state(path, layer, text))


def _staging_state(path: Path, layer: str, text: str) -> tuple[tuple[str, int], ...]:
    """What a model expanded over every staging model (quarantine) reads besides its own
    file: the staging declarations."""
    if layer not in ("staging", "quarantine") or "each_" not in text:
        return ()
    staging = path.parent.parent / "staging"
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in staging.glob("*.sql")))


@functools.lru_cache(maxsize=512)
def _loaded(path: Path, layer: str, text: str, staging: tuple[tuple[str, int], ...]) -> Model:
    # Cached by the file's text (and, for quarantine, the staging files it expands): an
    # incremental build discovers every model on every import, and parsing the headers,
    # writing out the checks and reading the SQL's tables costs a second each time.
    header_text, body = _split_header(text)
    try:
        header: Any = yaml.load(header_text, Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as err:
        raise ModelError(path, f"header is not valid YAML: {err}") from err
    if not isinstance(header, dict):
        raise ModelError(path, "header must be a YAML mapping")
    if not header.get("grain"):
        raise ModelError(path, "header must state the model's grain")
    if not body and "source" not in header:
        raise ModelError(path, "no SQL after the header")
    if layer in ("staging", "quarantine"):
        body = _declared_sql(header, body, path)
    name = f"{layer}.{path.stem}"
    refs = _referenced_tables(body, path)
    unique_key = tuple(header.get("unique_key") or ())
    try:
        checks = _checks(name, header)
    except ValueError as err:
        raise ModelError(path, str(err)) from err
    for check in checks:
        refs |= {r for r in check.references if r != name}
    sources = {r for r in refs if r.split(".")[0] in SOURCE_SCHEMAS}
    try:
        incremental, since, block = _incremental(header.get("incremental"))
    except ValueError as err:
        raise ModelError(path, str(err)) from err
    materialized = header.get("materialized", "table")
    if materialized not in ("table", "view"):
        raise ModelError(path, "materialized must be 'table' or 'view'")
    return Model(
        name=name,
        layer=layer,
        path=path,
        sql=body,
        grain=str(header["grain"]),
        unique_key=unique_key,
        checks=checks,
        depends_on=frozenset(refs - sources - {name}),
        sources=frozenset(sources),
        natural_key=tuple(header.get("natural_key") or ()),
        incremental=incremental,
        since=since,
        block=block,
        view=materialized == "view",
    )


def _checks(name: str, header: Mapping[str, Any]) -> tuple[Check, ...]:
    def work_out() -> list[dict[str, Any]]:
        return [
            {**dataclasses.asdict(c), "references": sorted(c.references)}
            for c in checks_from_header(name, header)
        ]

    parts = (name, json.dumps(header, sort_keys=True, default=str))
    return tuple(
        Check(**{**c, "references": frozenset(c["references"])})
        for c in sql_cache.kept("checks", parts, work_out)
    )


def _incremental(
    declared: Any,
) -> tuple[str | None, tuple[str, int] | None, int | None]:
    """``incremental: {by: pupil_key}`` or ``incremental: new_keys`` from a model's header,
    and with ``by:`` optionally ``since: <column>`` and ``lookback: <n>`` (or ``block: <n>``).

    Declaring ``by: c`` is a promise the property test holds the model to: its rows with a
    given value of ``c`` are computed only from input rows with that value (and from inputs
    without the column), so rebuilding those rows alone gives what a full build gives.
    Adding ``since: s`` and ``lookback: n`` promises more: a row with ``s = w`` is computed
    only from input rows (of its ``c``) with ``s`` between ``w - n`` and ``w``, so a change
    at ``w`` reaches only rows from ``w`` on, and rebuilding them reads inputs from
    ``w - n`` on. ``since: s`` with ``block: n`` promises that the values of ``s`` come in
    blocks of ``n`` (1 to n, n + 1 to 2n...) and that a row with ``s = w`` (the last value
    of its block) is computed only from input rows with ``s`` in that block.
    """
    if declared is None:
        return None, None, None
    if declared == "new_keys":
        return "new_keys", None, None
    if isinstance(declared, dict) and "by" in declared:
        column = str(declared["by"])
        rest = set(declared) - {"by"}
        if column.isidentifier() and rest in (set(), {"since", "lookback"}, {"since", "block"}):
            if not rest:
                return f"by:{column}", None, None
            since = str(declared["since"])
            lookback, block = declared.get("lookback", 0), declared.get("block")
            if (
                since.isidentifier()
                and isinstance(lookback, int)
                and lookback >= 0
                and (block is None or (isinstance(block, int) and block > 0))
            ):
                return f"by:{column}", (since, lookback), block
    raise ValueError(
        "incremental must be 'new_keys' or {by: <column>} (with since: <column> and "
        "lookback: <n> or block: <n>)"
    )


def discover_models(root: Path | None = None) -> dict[str, Model]:
    root = root or default_models_root()
    models: dict[str, Model] = {}
    for layer in MODEL_LAYERS:
        folder = root / layer
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.sql")):
            model = load_model(path, layer)
            if model.name in models:
                raise ModelError(path, f"{model.name} is defined twice")
            models[model.name] = model
    for model in models.values():
        unknown = model.depends_on - models.keys()
        if unknown:
            raise ModelError(model.path, f"reads unknown tables: {', '.join(sorted(unknown))}")
    return models


def build_order(models: Mapping[str, Model]) -> list[Model]:
    """Topological order with a stable tie-break, so runs are reproducible."""
    sorter = graphlib.TopologicalSorter({m.name: m.depends_on for m in models.values()})
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        raise ModelError("models", f"dependency cycle: {' -> '.join(err.args[1])}") from err
    order: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(models[n] for n in ready)
        sorter.done(*ready)
    return order


def downstream_of(models: Mapping[str, Model], touched: Iterable[str]) -> set[str]:
    """Every model that reads, directly or through others, any of the touched tables."""
    touched = set(touched)
    selected: set[str] = set()
    changed = True
    while changed:
        changed = False
        for model in models.values():
            if model.name in selected:
                continue
            if (model.sources | model.depends_on) & (touched | selected):
                selected.add(model.name)
                changed = True
    return selected
