"""Column mappings: how one spreadsheet layout becomes canonical records.

A mapping (a shipped preset or a school's own YAML file, see docs/mis-import.md) names,
for each canonical entity, the source column that holds each canonical column, plus
value maps ("Male" -> "M"), splits (one "Timestamp" column into a date and a time) and the
shape of attendance registers. ``MappedTableReader`` applies one mapping to one file and
yields records with text as read (after value mapping): validating and converting values
is staging's job, for every source alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from empowered.sources.canonical import ENTITIES
from empowered.sources.dates import is_date_column, to_iso
from empowered.sources.errors import SourceError
from empowered.sources.records import ReadResult, SourceRecord
from empowered.sources.tabular import (
    DEFAULT_MAX_BYTES,
    Table,
    normalise_header,
    read_header,
    read_table,
)
from empowered.sources.words import column_code

FILE_DATE = "@file_date"
# The first and last day of the period a report covers, from its title lines ("Date
# range: 03/09/2026 to 27/11/2026"): a summary report's period.
RANGE_START = "@range_start"
RANGE_END = "@range_end"
SPECIALS = (FILE_DATE, RANGE_START, RANGE_END)
CONST_PREFIX = "@const:"
MAX_MAPPING_BYTES = 1024 * 1024
_TOP_KEYS = "name description recognise school_urn entities values split attendance ignore".split()
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URN = re.compile(r"^\d{6}$")


class MappingError(ValueError):
    """A mapping file that cannot be used, naming the file and the key at fault."""

    def __init__(self, origin: str, key: str, reason: str) -> None:
        super().__init__(f"mapping {origin}, key {key!r}: {reason}")
        self.origin = origin
        self.key = key
        self.reason = reason


# Builds the error for a key of the mapping being loaded (it knows the file's name).
_Fail = Callable[[str, str], MappingError]


@dataclass(frozen=True)
class SchoolUrnSource:
    kind: Literal["column", "constant", "ask"]
    value: str | None = None  # the column name or the URN


@dataclass(frozen=True)
class Split:
    column: str  # source column
    into: tuple[str, str]  # canonical columns: the text before the first sep, and after it
    sep: str


@dataclass(frozen=True)
class AttendanceLayout:
    """Registers other than one row per session.

    ``sessions``: one row per pupil per day, one column per session (AM and PM marks).
    ``wide``: one row per pupil, one column per date and session ("Mon 01/09/2025 AM").
    """

    layout: Literal["sessions", "wide"]
    sessions: tuple[tuple[str, str], ...] = ()  # (session as written in records, column)
    pattern: re.Pattern[str] | None = None  # named groups: date and session


@dataclass(frozen=True, eq=False)
class Mapping:
    name: str
    description: str
    origin: str  # file or preset it came from, for messages
    recognise: frozenset[str]  # normalised headers that must all be present
    school_urn: SchoolUrnSource
    entities: dict[str, dict[str, str]]  # entity -> canonical column -> source spec
    values: dict[str, dict[str, str | None]]  # canonical column -> source word -> value
    splits: tuple[Split, ...] = ()
    attendance: AttendanceLayout | None = None
    ignore: frozenset[str] = frozenset()  # normalised source columns dropped on purpose
    _lookup: dict[str, dict[str, str | None]] = field(default_factory=dict, repr=False)

    def source_columns(self) -> set[str]:
        """Normalised names of every source column the mapping reads."""
        names = {
            normalise_header(spec)
            for columns in self.entities.values()
            for spec in columns.values()
            if not spec.startswith("@")
        }
        names |= {normalise_header(s.column) for s in self.splits}
        if self.attendance:
            names |= {normalise_header(column) for _, column in self.attendance.sessions}
        if self.school_urn.kind == "column" and self.school_urn.value:
            names.add(normalise_header(self.school_urn.value))
        return names | set(self.recognise)

    def map_value(self, column: str, text: str | None) -> str | None:
        """Apply the value map of a canonical column first (a school's own words win),
        then the words and date forms every export may use (``words``, ``dates``); a
        value nobody knows passes through as written, for staging to judge."""
        if text is None:
            return None
        table = self._lookup.get(column)
        key = text.strip().casefold()
        if table is not None and key in table:
            return table[key]
        return standard_value(column, text)

    def recognition_score(self, header: list[str]) -> int:
        """How specifically this mapping matches a header; 0 if it does not."""
        names = {normalise_header(h) for h in header}
        if not self.recognise or not self.recognise <= names:
            return 0
        if self.attendance and self.attendance.pattern:
            if not any(self.attendance.pattern.search(h.strip()) for h in header):
                return 0
        return len(self.recognise)


def standard_value(column: str, text: str | None) -> str | None:
    """A value in the form staging reads: words as codes, dates as ISO."""
    if is_date_column(column):
        return to_iso(text)
    return column_code(column, text)


# --- Loading and validating ------------------------------------------------------------


class _TextLoader(yaml.SafeLoader):
    """Every scalar stays text: YAML 1.1 would turn Yes/No into booleans, 0123 into a
    number and 2025-09-01 into a date, and a value map of Yes: Y would silently break."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_mapping(source: Path | str, *, origin: str | None = None) -> Mapping:
    """A mapping from a YAML file (a Path, or a str ending .yml/.yaml) or YAML text."""
    if isinstance(source, str) and "\n" not in source and source.endswith((".yml", ".yaml")):
        source = Path(source)
    if isinstance(source, Path):
        origin = origin or source.name
        try:
            if source.stat().st_size > MAX_MAPPING_BYTES:
                raise MappingError(origin, "(file)", "is over 1 MB: not a column mapping")
            text = source.read_text(encoding="utf-8-sig")
        except OSError as err:
            raise MappingError(origin, "(file)", f"could not be read: {err}") from err
        except UnicodeDecodeError as err:
            raise MappingError(origin, "(file)", "is not UTF-8 text") from err
    else:
        text, origin = source, origin or "(text)"
    try:
        document = yaml.load(text, Loader=_TextLoader)  # a SafeLoader subclass: no objects
    except yaml.YAMLError as err:
        raise MappingError(origin, "(file)", f"is not valid YAML: {err}") from err
    return _parse(origin, document)


def _parse(origin: str, doc: Any) -> Mapping:
    def fail(key: str, reason: str) -> MappingError:
        return MappingError(origin, key, reason)

    if not isinstance(doc, dict):
        raise fail("(file)", "must be a YAML mapping of keys (name, entities, ...)")
    unknown = sorted(str(k) for k in doc if k not in _TOP_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known keys: {', '.join(_TOP_KEYS)})")
    name = _text(doc.get("name"), "name", fail)
    if not _NAME.match(name):
        raise fail("name", "use lower-case letters, digits, '-' and '_' (e.g. sims-pupils)")
    description = _text(doc.get("description", ""), "description", fail, empty=True)
    recognise = frozenset(
        normalise_header(_text(r, "recognise", fail)) for r in _list(doc, "recognise", fail)
    )
    school = _school_urn(doc.get("school_urn"), fail)
    entities = _entities(doc.get("entities"), fail)
    values = _values(doc.get("values"), entities, fail)
    splits = _splits(doc.get("split"), entities, fail)
    attendance = _attendance(doc.get("attendance"), entities, fail)
    ignore = frozenset(
        normalise_header(_text(i, "ignore", fail)) for i in _list(doc, "ignore", fail)
    )
    _check_required(entities, splits, attendance, fail)
    lookup = {
        column: {word.strip().casefold(): target for word, target in table.items()}
        for column, table in values.items()
    }
    return Mapping(
        name, description, origin, recognise, school, entities, values, splits, attendance,
        ignore, lookup,
    )  # fmt: skip


def _text(value: Any, key: str, fail: _Fail, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise fail(key, "must be text" if value is not None else "is required")
    return value


def _list(doc: dict[str, Any], key: str, fail: _Fail) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise fail(key, "must be a list")
    return value


def _school_urn(value: Any, fail: _Fail) -> SchoolUrnSource:
    if not isinstance(value, str) or not value.strip():
        raise fail("school_urn", 'is required: "column:<header>", a 6-digit URN, or "ask"')
    value = value.strip()
    if value == "ask":
        return SchoolUrnSource("ask")
    if value.startswith("column:") and value[len("column:") :].strip():
        return SchoolUrnSource("column", value[len("column:") :].strip())
    if _URN.match(value):
        return SchoolUrnSource("constant", value)
    raise fail("school_urn", f'{value!r} is not "column:<header>", a 6-digit URN, or "ask"')


def _entities(value: Any, fail: _Fail) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict) or not value:
        raise fail("entities", "is required: canonical entity -> canonical column -> column")
    entities: dict[str, dict[str, str]] = {}
    for entity_name, columns in value.items():
        key = f"entities.{entity_name}"
        entity = ENTITIES.get(str(entity_name))
        if entity is None:
            raise fail(key, f"not a canonical entity (known: {', '.join(sorted(ENTITIES))})")
        if columns is None:
            columns = {}
        if not isinstance(columns, dict):
            raise fail(key, "must map canonical columns to source columns")
        mapped: dict[str, str] = {}
        for column, spec in columns.items():
            column_key = f"{key}.{column}"
            if column == "school_urn":
                raise fail(column_key, "set school_urn once, at the top of the mapping")
            if column not in entity.raw_columns:
                known = ", ".join(c for c in entity.raw_columns if c != "school_urn")
                raise fail(column_key, f"not a column of {entity.name} (known: {known})")
            spec = _text(spec, column_key, fail)
            if spec.startswith("@") and spec not in SPECIALS and not spec.startswith(CONST_PREFIX):
                raise fail(
                    column_key,
                    f"unknown special value {spec!r} (use @file_date, @range_start, @range_end "
                    "or @const:X)",
                )
            mapped[str(column)] = spec
        entities[entity.name] = mapped
    return entities


def _values(value: Any, entities: dict[str, dict[str, str]], fail: _Fail) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("values", "must map canonical columns to {source word: value}")
    known = {c for e in entities for c in ENTITIES[e].raw_columns}
    out: dict[str, dict[str, str | None]] = {}
    for column, table in value.items():
        key = f"values.{column}"
        if column not in known:
            raise fail(key, "not a column of any entity this mapping fills")
        if not isinstance(table, dict) or not all(
            isinstance(w, str) and (t is None or isinstance(t, str)) for w, t in table.items()
        ):
            raise fail(key, "must map source words to canonical values (text)")
        out[str(column)] = dict(table)
    return out


def _splits(value: Any, entities: dict[str, dict[str, str]], fail: _Fail) -> tuple[Split, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise fail("split", "must name splits: {label: {column, into: [a, b], sep}}")
    known = {c for e in entities for c in ENTITIES[e].raw_columns}
    mapped = {c for columns in entities.values() for c in columns}
    splits = []
    for label, spec in value.items():
        key = f"split.{label}"
        if not isinstance(spec, dict) or set(spec) - {"column", "into", "sep"}:
            raise fail(key, "must have column, into and optionally sep")
        column = _text(spec.get("column"), f"{key}.column", fail)
        into = spec.get("into")
        if not (
            isinstance(into, list) and len(into) == 2 and all(isinstance(i, str) for i in into)
        ):
            raise fail(f"{key}.into", "must list two canonical columns")
        for target in into:
            if target not in known:
                raise fail(f"{key}.into", f"{target!r} is not a column of a mapped entity")
            if target in mapped:
                raise fail(f"{key}.into", f"{target!r} is also mapped directly under entities")
        sep = spec.get("sep", " ")
        if not isinstance(sep, str) or not sep:
            raise fail(f"{key}.sep", "must be non-empty text")
        splits.append(Split(column, (into[0], into[1]), sep))
    return tuple(splits)


def _attendance(
    value: Any, entities: dict[str, dict[str, str]], fail: _Fail
) -> AttendanceLayout | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail("attendance", "must give a layout: sessions or wide")
    if "attendance" not in entities:
        raise fail("attendance", "needs an entities.attendance section (upn, date, ...)")
    produced = {"session", "code"}
    layout = value.get("layout")
    if layout == "sessions":
        sessions = value.get("sessions")
        if not isinstance(sessions, dict) or not sessions or set(value) - {"layout", "sessions"}:
            raise fail("attendance.sessions", "must map each session (AM, PM) to its column")
        pairs = tuple(
            (str(s), _text(c, f"attendance.sessions.{s}", fail)) for s, c in sessions.items()
        )
        result = AttendanceLayout("sessions", sessions=pairs)
    elif layout == "wide":
        pattern_text = _text(value.get("pattern"), "attendance.pattern", fail)
        if set(value) - {"layout", "pattern"}:
            raise fail("attendance", "a wide layout takes only layout and pattern")
        try:
            pattern = re.compile(pattern_text)
        except re.error as err:
            raise fail("attendance.pattern", f"is not a valid regular expression: {err}") from err
        if not {"date", "session"} <= set(pattern.groupindex):
            raise fail(
                "attendance.pattern", "needs named groups (?P<date>...) and (?P<session>...)"
            )
        result = AttendanceLayout("wide", pattern=pattern)
        produced.add("date")
    else:
        raise fail("attendance.layout", "must be sessions or wide")
    clash = sorted(produced & set(entities["attendance"]))
    if clash:
        raise fail(f"entities.attendance.{clash[0]}", f"comes from the {layout} layout; remove it")
    return result


def _check_required(
    entities: dict[str, dict[str, str]],
    splits: tuple[Split, ...],
    attendance: AttendanceLayout | None,
    fail: _Fail,
) -> None:
    split_targets = {t for s in splits for t in s.into}
    for name, columns in entities.items():
        provided = set(columns) | split_targets | {"school_urn"}
        if name == "attendance" and attendance:
            provided |= {"session", "code"} | ({"date"} if attendance.layout == "wide" else set())
        missing = [c for c in ENTITIES[name].required if c not in provided]
        if missing:
            raise fail(f"entities.{name}", f"required column not mapped: {', '.join(missing)}")


# --- Reading ---------------------------------------------------------------------------


class MappedTableReader:
    """A Reader for any CSV/XLSX layout described by a mapping."""

    def __init__(
        self,
        mapping: Mapping,
        *,
        school: str | None = None,
        file_date: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sheet: str | None = None,
    ) -> None:
        self.mapping = mapping
        self.name = mapping.name
        self.school = school  # the URN given to the importer (--school)
        self.file_date = file_date
        self.max_bytes = max_bytes
        self.sheet = sheet

    def recognises(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() not in {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}:
            return False
        try:
            header = read_header(
                path, head=head or None, expected=self.mapping.source_columns(),
                max_bytes=self.max_bytes,
            )  # fmt: skip
        except SourceError:
            return False
        return self.mapping.recognition_score(header) > 0

    def read(self, path: Path) -> ReadResult:
        table = read_table(
            path, max_bytes=self.max_bytes, sheet=self.sheet,
            expected=self.mapping.source_columns(),
        )  # fmt: skip
        plan = _Plan(self.mapping, table, self.school, self.file_date)
        return ReadResult(
            file_name=path.name,
            source=self.mapping.name,
            records=plan.records(),
            unknown_columns=plan.unknown_columns,
            skipped=table.skipped,
            warnings=table.warnings + plan.warnings,
        )


_Getter = tuple[int | None, str | None]  # (cell index, or None with a constant)


class _Plan:
    """Where each canonical value of a mapping comes from in one particular file."""

    def __init__(
        self, mapping: Mapping, table: Table, school_urn: str | None, file_date: str | None
    ) -> None:
        self.mapping = mapping
        self.table = table
        self.warnings: list[str] = []
        self._index, duplicated = _header_index(table.header)
        self._duplicated = duplicated
        self._used: set[int] = set()
        self._school = self._school_getter(school_urn)
        self._file_date = self._resolve_file_date(file_date)
        self._columns = {
            entity: {c: self._getter(entity, c, spec) for c, spec in columns.items()}
            for entity, columns in mapping.entities.items()
        }
        self._splits = [(s, self._split_index(s)) for s in mapping.splits]
        self._sessions = self._session_columns()
        # Columns the mapping neither reads nor ignores are kept (record.extra) and
        # reported, so a school sees what its layout carries that nobody maps yet; except
        # those that identify a pupil (names, UPNs, dates of birth), which raw keeps only
        # as ciphertext: the same rule a layout applies (layouts.fit), named in the report.
        unread = [
            (i, h)
            for i, h in enumerate(table.header)
            if i not in self._used and h.strip() and normalise_header(h) not in mapping.ignore
        ]
        identifying = _identity_headings()
        self._unknown = [(i, h) for i, h in unread if normalise_header(h) not in identifying]
        self.unknown_columns = [h for _, h in self._unknown]
        left_out = [h for i, h in unread if normalise_header(h) in identifying]
        if left_out:
            self.warnings.append(
                "not used and not kept, as they identify a pupil: " + ", ".join(left_out)
            )

    # Resolving columns.

    def _find(self, column: str) -> int | None:
        key = normalise_header(column)
        if key in self._duplicated:
            raise SourceError(
                self.table.file_name,
                "the column appears more than once in the header; cannot tell which to use",
                row=self.table.header_row,
                column=column,
            )
        index = self._index.get(key)
        if index is not None:
            self._used.add(index)
        return index

    def _missing(self, column: str, what: str) -> SourceError:
        return SourceError(
            self.table.file_name,
            f"required column missing ({what}; mapping {self.mapping.name})",
            row=self.table.header_row,
            column=column,
        )

    def _school_getter(self, school_urn: str | None) -> _Getter:
        source = self.mapping.school_urn
        if source.kind == "column":
            assert source.value is not None
            index = self._find(source.value)
            if index is None:
                raise self._missing(source.value, "school_urn")
            if school_urn:
                self.warnings.append(
                    f"the school URN comes from column {source.value!r}; the URN given "
                    "to the importer was not used"
                )
            return (index, None)
        if school_urn:
            return (None, school_urn)
        if source.kind == "constant":
            return (None, source.value)
        raise SourceError(
            self.table.file_name,
            f"layout {self.mapping.name} has no school URN column: tell the importer which "
            "school the file belongs to (--school URN)",
        )

    def _resolve_file_date(self, given: str | None) -> str:
        if given:
            return given
        if self.table.file_date:
            return self.table.file_date
        today = date.today().isoformat()
        if any(FILE_DATE in columns.values() for columns in self.mapping.entities.values()):
            self.warnings.append(
                f"no export date in the file's title lines: dated today ({today}); for an older "
                "file, give its date with --export-date (e.g. 2026-12-01) when importing it"
            )
        return today

    def _getter(self, entity: str, column: str, spec: str) -> _Getter:
        if spec == FILE_DATE:
            return (None, self._file_date)
        if spec in (RANGE_START, RANGE_END):
            span = self.table.date_range
            if span is None:
                self.warnings.append(
                    f"no date range in the file's title lines ({entity}.{column} left empty)"
                )
                return (None, None)
            return (None, span[0] if spec == RANGE_START else span[1])
        if spec.startswith(CONST_PREFIX):
            return (None, spec[len(CONST_PREFIX) :] or None)
        index = self._find(spec)
        if index is None:
            if column in ENTITIES[entity].required:
                raise self._missing(spec, f"{entity}.{column}")
            self.warnings.append(
                f"column {spec!r} ({entity}.{column}) is not in the file; left empty"
            )
        return (index, None)

    def _split_index(self, split: Split) -> int | None:
        index = self._find(split.column)
        if index is None:
            needed = [
                f"{e}.{t}"
                for e in self.mapping.entities
                for t in split.into
                if t in ENTITIES[e].required
            ]
            if needed:
                raise self._missing(split.column, ", ".join(needed))
            self.warnings.append(f"column {split.column!r} (split) is not in the file")
        return index

    def _session_columns(self) -> list[tuple[int, str | None, str | None]]:
        """(cell index, date text or None, session text) for each register column."""
        layout = self.mapping.attendance
        if layout is None:
            return []
        if layout.layout == "sessions":
            out: list[tuple[int, str | None, str | None]] = []
            for session, column in layout.sessions:
                index = self._find(column)
                if index is None:
                    raise self._missing(column, f"attendance session {session}")
                out.append((index, None, session))
            return out
        assert layout.pattern is not None
        out = []
        for index, header in enumerate(self.table.header):
            match = layout.pattern.search(header.strip())
            if match:
                self._used.add(index)
                out.append((index, match.group("date"), match.group("session")))
        if not out:
            raise SourceError(
                self.table.file_name,
                f"no column header matches the attendance pattern of {self.mapping.name}",
                row=self.table.header_row,
            )
        return out

    # Building records.

    def records(self) -> list[SourceRecord]:
        out: list[SourceRecord] = []
        mapping = self.mapping
        for row_number, cells in self.table.rows:
            extra = {h: text for i, h in self._unknown if (text := cells[i]) is not None}
            split_values = self._split_values(cells)
            for entity, getters in self._columns.items():
                values: dict[str, str | None] = {"school_urn": _get(cells, self._school)}
                for column, getter in getters.items():
                    values[column] = mapping.map_value(column, _get(cells, getter))
                for column, text in split_values.items():
                    if column in ENTITIES[entity].raw_columns:
                        values[column] = text
                if entity == "attendance" and mapping.attendance:
                    out.extend(self._sessions_of(values, cells, row_number, extra))
                else:
                    out.append(SourceRecord(entity, values, row_number, extra))
        return out

    def _split_values(self, cells: list[str | None]) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for split, index in self._splits:
            text = cells[index] if index is not None else None
            first, _, rest = (text or "").partition(split.sep)
            for column, part in zip(split.into, (first, rest), strict=True):
                values[column] = self.mapping.map_value(column, part.strip() or None)
        return values

    def _sessions_of(
        self,
        base: dict[str, str | None],
        cells: list[str | None],
        row_number: int,
        extra: dict[str, str],
    ) -> list[SourceRecord]:
        out = []
        for index, day, session in self._sessions:
            code = cells[index]
            if code is None:  # no mark: not on roll that session, or not yet taken
                continue
            values = dict(base)
            if day is not None:
                values["date"] = self.mapping.map_value("date", day)
            values["session"] = self.mapping.map_value("session", session)
            values["code"] = self.mapping.map_value("code", code)
            out.append(SourceRecord("attendance", values, row_number, extra))
        return out


def _identity_headings() -> frozenset[str]:
    # Imported here: the layouts are themselves mappings (layouts imports this module).
    from empowered.sources.layouts import identity_headings

    return identity_headings()


def _header_index(header: list[str]) -> tuple[dict[str, int], set[str]]:
    index: dict[str, int] = {}
    duplicated: set[str] = set()
    for i, name in enumerate(header):
        key = normalise_header(name)
        if not key:
            continue
        if key in index:
            duplicated.add(key)
        else:
            index[key] = i
    return index, duplicated


def _get(cells: list[str | None], getter: _Getter) -> str | None:
    index, constant = getter
    return cells[index] if index is not None else constant
