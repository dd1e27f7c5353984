"""Attendance and safeguarding trigger rules: a YAML file a school can edit, checked and
written to ``meta.trigger_rules`` before every build.

The rules are data, not SQL: ``marts.safeguarding_trigger`` joins ``meta.trigger_rules``
and reads each rule's threshold and window from there, so editing a threshold never means
editing (or formatting values into) SQL. ``combined`` rules are loaded and stored too, but
only the analytics evaluate them (they mix SQL triggers with early-sign indicators such as
a decline in mood, which are not SQL).
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

TABLE = "meta.trigger_rules"

# Early-sign indicators the analytics compute; a combined rule may name these as well as
# other rules' ids.
EARLY_SIGN_INDICATORS = frozenset(
    {
        "attendance_decline",
        "mood_decline",
        "engagement_decline",
        "behaviour_increase",
        "attainment_decline",
    }
)

# The evidence columns of marts.safeguarding_trigger a rule's wording may name.
WORDING_FIELDS = frozenset(
    {
        "value",
        "threshold",
        "window_start",
        "window_end",
        "window_school_weeks",
        "period",
        "min_possible_sessions",
    }
)

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    rule_id VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    threshold DOUBLE,
    window_school_weeks INTEGER,
    period VARCHAR,
    min_possible_sessions INTEGER,
    components VARCHAR,
    wording VARCHAR NOT NULL,
    source VARCHAR,
    enabled BOOLEAN NOT NULL
)"""

_COLUMNS = (
    "rule_id",
    "label",
    "kind",
    "threshold",
    "window_school_weeks",
    "period",
    "min_possible_sessions",
    "components",
    "wording",
    "source",
    "enabled",
)

RuleRow = tuple[Any, ...]


class TriggerRulesError(ValueError):
    """The trigger rules file is unreadable or a rule in it is invalid."""

    def __init__(self, path: Path | str, message: str, rule_id: str | None = None) -> None:
        where = f"{path}: rule {rule_id!r}" if rule_id else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.rule_id = rule_id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A school week count: a window longer than a school year could never be filled.
WindowWeeks = Annotated[int, Field(ge=1, le=52)]


class RollingSessionsParameters(_Strict):
    threshold: Annotated[int, Field(ge=1)]
    window_school_weeks: WindowWeeks


class TermSessionsParameters(_Strict):
    threshold: Annotated[int, Field(ge=1)]


class AbsenceRateParameters(_Strict):
    threshold: Annotated[float, Field(gt=0, le=1)]
    period: Literal["term", "year_to_date"]
    # Without a floor, one absent session in week one is a 100% absence rate.
    min_possible_sessions: Annotated[int, Field(ge=1)]


class SuspensionsParameters(_Strict):
    threshold: Annotated[int, Field(ge=1)]
    window_school_weeks: WindowWeeks


class CombinedParameters(_Strict):
    all_of: Annotated[list[str], Field(min_length=2)]


class _Rule(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    label: Annotated[str, Field(min_length=1)]
    wording: Annotated[str, Field(min_length=1)]
    enabled: bool = True
    source: str | None = None

    @field_validator("label", "wording", "source")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # YAML folded scalars keep a trailing newline and may keep runs of spaces.
        return " ".join(value.split()) if value is not None else None

    @field_validator("wording")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        except ValueError as err:
            raise ValueError(f"wording has a stray brace: {err}") from err
        unknown = sorted(names - WORDING_FIELDS)
        if unknown:
            raise ValueError(
                f"wording names {', '.join(unknown)}; it may use "
                f"{', '.join(sorted(WORDING_FIELDS))}"
            )
        return value


class UnauthorisedSessionsRule(_Rule):
    kind: Literal["unauthorised_sessions"]
    parameters: RollingSessionsParameters


class UnauthorisedSessionsInTermRule(_Rule):
    kind: Literal["unauthorised_sessions_in_term"]
    parameters: TermSessionsParameters


class AbsenceRateRule(_Rule):
    kind: Literal["absence_rate"]
    parameters: AbsenceRateParameters


class SuspensionsRule(_Rule):
    kind: Literal["suspensions"]
    parameters: SuspensionsParameters


class CombinedRule(_Rule):
    kind: Literal["combined"]
    parameters: CombinedParameters


TriggerRule = Annotated[
    UnauthorisedSessionsRule
    | UnauthorisedSessionsInTermRule
    | AbsenceRateRule
    | SuspensionsRule
    | CombinedRule,
    Field(discriminator="kind"),
]
_RULE = TypeAdapter[TriggerRule](TriggerRule)

# Kinds the safeguarding mart evaluates in SQL; combined rules are for the analytics.
SQL_KINDS = frozenset(
    {"unauthorised_sessions", "unauthorised_sessions_in_term", "absence_rate", "suspensions"}
)
KINDS = SQL_KINDS | {"combined"}


def default_rules_path() -> Path:
    return Path(str(resources.files("empowered.warehouse") / "trigger_rules.yml"))


def _field_name(loc: Sequence[int | str]) -> str:
    # The discriminated union puts the kind into the location: drop it, people never wrote it.
    parts = [str(p) for p in loc if str(p) not in KINDS]
    return ".".join(parts) or "rule"


def _validate_rule(path: Path, index: int, item: Any) -> TriggerRule:
    rule_id = item.get("id") if isinstance(item, dict) else None
    label = str(rule_id) if isinstance(rule_id, str) and rule_id else f"number {index + 1}"
    try:
        return _RULE.validate_python(item)
    except ValidationError as err:
        first = err.errors()[0]
        field = _field_name(first["loc"])
        message = first["msg"]
        if first["type"] == "union_tag_invalid":
            field = "kind"
        raise TriggerRulesError(path, f"{field}: {message}", label) from err


def load_trigger_rules(path: Path | None = None) -> list[TriggerRule]:
    """Read and check a trigger rules file (default: the shipped one)."""
    path = path or default_rules_path()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TriggerRulesError(path, f"cannot be read ({err.strerror or err})") from err
    except yaml.YAMLError as err:
        raise TriggerRulesError(path, f"is not valid YAML: {err}") from err
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise TriggerRulesError(path, "must be a mapping with a list under 'rules'")
    rules = [_validate_rule(path, i, item) for i, item in enumerate(document["rules"])]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise TriggerRulesError(path, "id: is used by more than one rule", rule.id)
        seen.add(rule.id)
    for rule in rules:
        if isinstance(rule, CombinedRule):
            for part in rule.parameters.all_of:
                if part == rule.id:
                    raise TriggerRulesError(path, "parameters.all_of: names itself", rule.id)
                if part not in seen and part not in EARLY_SIGN_INDICATORS:
                    known = ", ".join(sorted(EARLY_SIGN_INDICATORS))
                    raise TriggerRulesError(
                        path,
                        f"parameters.all_of: {part!r} is neither a rule id in this file "
                        f"nor an early-sign indicator ({known})",
                        rule.id,
                    )
    return rules


def rule_rows(rules: Sequence[TriggerRule]) -> list[RuleRow]:
    """One row per rule in the column order of meta.trigger_rules, sorted by rule id."""
    rows: list[RuleRow] = []
    for rule in rules:
        p = rule.parameters
        threshold = getattr(p, "threshold", None)
        components = ",".join(rule.parameters.all_of) if isinstance(rule, CombinedRule) else None
        rows.append(
            (
                rule.id,
                rule.label,
                rule.kind,
                float(threshold) if threshold is not None else None,
                getattr(p, "window_school_weeks", None),
                getattr(p, "period", None),
                getattr(p, "min_possible_sessions", None),
                components,
                rule.wording,
                rule.source,
                rule.enabled,
            )
        )
    return sorted(rows, key=lambda row: str(row[0]))


def _stored_rows(con: duckdb.DuckDBPyConnection) -> list[RuleRow]:
    columns = ", ".join(_COLUMNS)
    rows = con.execute(f"SELECT {columns} FROM {TABLE} ORDER BY rule_id").fetchall()
    return [tuple(r) for r in rows]


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Start a transaction unless the caller already has one open (then theirs decides).

    As in the reference loader: in auto-commit mode every statement gets a new
    transaction id, inside an open transaction both answers are the same.
    """
    first = con.execute("SELECT txid_current()").fetchone()
    second = con.execute("SELECT txid_current()").fetchone()
    if first == second:
        return False
    con.execute("BEGIN TRANSACTION")
    return True


def write_trigger_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[TriggerRule]) -> bool:
    """Replace meta.trigger_rules with these rules; True when its contents changed.

    Unchanged rules leave the table untouched, so an incremental build does not rebuild
    the safeguarding mart for nothing.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(_DDL)
    rows = rule_rows(rules)
    if _stored_rows(con) == rows:
        return False
    placeholders = ", ".join("?" for _ in _COLUMNS)
    owns_transaction = _begin(con)
    try:
        con.execute(f"DELETE FROM {TABLE}")
        if rows:
            con.executemany(f"INSERT INTO {TABLE} VALUES ({placeholders})", rows)
    except BaseException:
        if owns_transaction:
            con.execute("ROLLBACK")
        raise
    if owns_transaction:
        con.execute("COMMIT")
    return True


# Rules an administrator saved on the admin page (``app.trigger_rule_overrides``, one JSON
# document per rule id, the YAML's shape): they win over the file's rule of the same id.
OVERRIDES_TABLE = "app.trigger_rule_overrides"


def parse_rule(item: Any, where: Path | str = OVERRIDES_TABLE) -> TriggerRule:
    """Check one rule (a dict shaped as in the YAML) with the same model as the file."""
    return _validate_rule(Path(str(where)), 0, item)


def rule_document(rule: TriggerRule) -> dict[str, Any]:
    """A rule as the dict the YAML (and the overrides table) holds."""
    return rule.model_dump(mode="json", exclude_none=True)


def saved_overrides(con: duckdb.DuckDBPyConnection) -> dict[str, TriggerRule]:
    """The administrator's saved rules by id; none when the table is not there."""
    schema, table = OVERRIDES_TABLE.split(".")
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    out: dict[str, TriggerRule] = {}
    for rule_id, body in con.execute(
        f"SELECT rule_id, body FROM {OVERRIDES_TABLE} ORDER BY rule_id"
    ).fetchall():
        try:
            out[str(rule_id)] = parse_rule(json.loads(body))
        except (ValueError, TypeError) as err:
            raise TriggerRulesError(OVERRIDES_TABLE, f"saved rule is invalid: {err}") from err
    return out


def with_overrides(
    rules: Sequence[TriggerRule], overrides: dict[str, TriggerRule]
) -> list[TriggerRule]:
    """The file's rules with each saved rule in place of the file's rule of its id (a saved
    rule whose id the file no longer has is left out: the file decides which rules exist)."""
    return [overrides.get(rule.id, rule) for rule in rules]


def sync_trigger_rules(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> bool:
    """Load, check and store the rules (default: the shipped file, with any rules an
    administrator saved in their place); True when they changed."""
    return write_trigger_rules(con, with_overrides(load_trigger_rules(path), saved_overrides(con)))
