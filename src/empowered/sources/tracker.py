"""The provision tracker (provision map) many SENCos keep as a spreadsheet.

One row per pupil per intervention ("Pupil", "Class", "Intervention", "Start date", ...),
or one row per intervention group with its pupils listed in one cell, separated by ";" or
line breaks; both give one ``provision_enrolments`` record per pupil. Trackers name pupils
as staff type them, so records carry ``pupil_name`` and ``pupil_group`` for staging to
match. An intervention the trust's catalogue does not know also becomes an
``interventions`` record, so a tracker can introduce one. See docs/forms-and-trackers.md.

Like every reader it does not validate: values are kept as text, as written.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from empowered.sources.canonical import ENTITIES
from empowered.sources.errors import SourceError
from empowered.sources.forms import answer_key, split_pupil, stable_id
from empowered.sources.records import ReadResult, SkippedRow, SourceRecord
from empowered.sources.tabular import Table, normalise_header, read_header, read_table

# Header spellings seen in trackers, by what they mean. Compared with normalise_header, so
# case, spacing and punctuation do not matter.
TRACKER_COLUMNS: dict[str, tuple[str, ...]] = {
    "pupil": ("Pupil", "Pupil name", "Name", "Child", "Student", "Learner"),
    "pupils": ("Pupils", "Pupil names", "Children", "Students", "Group members"),
    "pupil_group": ("Class", "Reg group", "Registration group", "Form", "Tutor group"),
    "pupil_dob": ("Date of birth", "DOB"),
    "mis_id": ("MIS ID", "Admission number", "Adno"),
    "intervention": ("Intervention", "Intervention name", "Provision", "Programme"),
    "intervention_code": ("Intervention code",),
    "area_of_need": ("Area of need", "Broad area of need", "Area"),
    "start_date": ("Start date", "Date started", "Start"),
    "end_date": ("End date", "Date ended", "End"),
    "sessions_per_week": ("Sessions per week", "Sessions a week", "Sessions/week"),
    "sessions_planned": ("Sessions planned", "Number of sessions", "Total sessions"),
    "minutes_per_session": (
        "Minutes per session",
        "Session length (minutes)",
        "Duration (minutes)",
        "Minutes",
    ),
    "staff_id": ("Staff", "Staff ID", "Staff code", "Delivered by"),
    "group_size": ("Group size",),
    "hourly_staff_cost": ("Cost per hour", "Hourly cost", "Staff cost per hour"),
    "materials_cost": ("Materials", "Materials cost", "Resources cost"),
    "training_cost": ("Training cost",),
    "pre_score": ("Pre score", "Pre-score", "Baseline score", "Entry score"),
    "pre_date": ("Pre date", "Pre-date", "Baseline date", "Entry date"),
    "post_score": ("Post score", "Post-score", "Exit score"),
    "post_date": ("Post date", "Post-date", "Exit date"),
    # Read but not mapped: kept in extra (a formula's saved result, free text).
    "cost": ("Cost", "Total cost", "Cost per session", "Weekly cost"),
    "notes": ("Notes", "Comments"),
}
ENROLMENT_COLUMNS = (
    "staff_id",
    "start_date",
    "end_date",
    "sessions_planned",
    "pre_date",
    "pre_score",
    "post_date",
    "post_score",
    "mis_id",
    "pupil_dob",
)
CATALOGUE_COLUMNS = (
    "area_of_need",
    "group_size",
    "minutes_per_session",
    "hourly_staff_cost",
    "materials_cost",
    "training_cost",
)
MONEY_COLUMNS = ("hourly_staff_cost", "materials_cost", "training_cost")
# A cell holding several pupils: one per line or separated by semicolons.
_PUPIL_SEPARATOR = re.compile(r"[;\r\n]+")
_UK_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?\s*$")
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


def slug(name: str) -> str:
    """ "Lego-based therapy" -> "lego_based_therapy": an intervention code from its name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def parse_date(text: str | None) -> date | None:
    """A tracker date written DD/MM/YYYY or YYYY-MM-DD (an Excel date reads as the latter)."""
    if text is None:
        return None
    found = _UK_DATE.match(text)
    try:
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        found = _ISO_DATE.match(text)
        if found:
            return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None
    return None


def planned_sessions(per_week: str | None, start: str | None, end: str | None) -> str | None:
    """Sessions per week x weeks from start to end, counting a part week as a whole one:
    ceil((end - start + 1 day) / 7). An estimate that ignores holidays; a tracker with a
    "Sessions planned" column gives the real number instead. None when any part is missing
    or unreadable, or the end is before the start (staging reports the dates)."""
    first, last = parse_date(start), parse_date(end)
    if per_week is None or first is None or last is None or last < first:
        return None
    if not _NUMBER.match(per_week):
        return None
    weeks = math.ceil(((last - first).days + 1) / 7)
    return str(round(float(per_week) * weeks))


def catalogue_from_rows(rows: Iterable[Mapping[str, str | None]]) -> dict[str, str]:
    """Intervention code -> name from rows shaped like the canonical interventions.csv."""
    out: dict[str, str] = {}
    for row in rows:
        code = (row.get("intervention_code") or "").strip()
        if code:
            out[code] = (row.get("intervention_name") or "").strip()
    return out


def catalogue_from_csv(path: Path) -> dict[str, str]:
    """The catalogue of a canonical interventions.csv."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return catalogue_from_rows(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SourceError(path.name, f"could not be read as a catalogue: {err}") from err


def _money(text: str | None) -> str | None:
    # "£15.50" and "1,200" are spellings of a number, not a different value.
    if text is None:
        return None
    cleaned = text.strip().removeprefix("£").replace(",", "").strip()
    return cleaned if _NUMBER.match(cleaned) else text


@dataclass
class _Intervention:
    code: str | None
    name: str
    first_row: int
    values: dict[str, str] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)


class TrackerReader:
    """A provision tracker (CSV or XLSX) read into enrolments and new interventions."""

    name = "provision"

    def __init__(
        self,
        *,
        school: str | None = None,
        catalogue: Mapping[str, str] | None = None,
        sheet: str | None = None,
        max_bytes: int | None = None,
    ) -> None:
        """``catalogue`` (intervention code -> name) is the trust's intervention catalogue:
        tracker names are matched to it, and only interventions it lacks are emitted as
        ``interventions`` records. Without it every intervention named is emitted."""
        self.school_urn = school  # the URN given to the importer (--school)
        self.catalogue = dict(catalogue or {})
        self._by_name = {answer_key(n): c for c, n in self.catalogue.items() if n}
        self.sheet = sheet
        self.max_bytes = max_bytes

    def _expected(self) -> list[str]:
        return [n for names in TRACKER_COLUMNS.values() for n in names]

    def _read_table(self, path: Path) -> Table:
        if self.max_bytes is None:
            return read_table(path, sheet=self.sheet, expected=self._expected())
        return read_table(
            path, sheet=self.sheet, expected=self._expected(), max_bytes=self.max_bytes
        )

    def recognises(self, path: Path, head: bytes) -> bool:
        try:
            header = read_header(path, head=head, expected=self._expected())
        except (SourceError, OSError, ValueError):
            # Guessing must never stop an import: a file that cannot be read is not ours.
            return False
        names = {normalise_header(h) for h in header if h}

        def has(kind: str) -> bool:
            return any(normalise_header(n) in names for n in TRACKER_COLUMNS[kind])

        return has("intervention") and (has("pupil") or has("pupils")) and has("start_date")

    def intervention_code(self, name: str) -> str | None:
        """The catalogue code whose name matches (case and spacing ignored), the catalogue
        code equal to the name's slug, else the slug."""
        found = self._by_name.get(answer_key(name))
        if found is not None:
            return found
        code = slug(name)
        return code or None

    def read(self, path: Path) -> ReadResult:
        table = self._read_table(path)
        columns, unknown, warnings = _locate(table.header)
        if "intervention" not in columns and "intervention_code" not in columns:
            raise SourceError(
                path.name, "required column missing: Intervention", column="Intervention"
            )
        if "pupil" not in columns and "pupils" not in columns:
            raise SourceError(path.name, "required column missing: Pupil", column="Pupil")
        if self.school_urn is None:
            warnings.append("no school given (school_urn): every row will be quarantined")
        mapped = set(columns.values())
        kept = {i: h for i, h in enumerate(table.header) if h.strip() and i not in mapped}
        # Columns the enrolment does not hold are kept in its extra, so the whole row can
        # still be seen in raw even when the catalogue already knows the intervention.
        for kind in (*CATALOGUE_COLUMNS, "sessions_per_week", "cost", "notes"):
            if kind in columns:
                kept[columns[kind]] = table.header[columns[kind]]

        records: list[SourceRecord] = []
        skipped = list(table.skipped)
        interventions: dict[str, _Intervention] = {}
        unreadable_per_week: list[int] = []

        for row, cells in table.rows:

            def cell(kind: str, cells: Sequence[str | None] = cells) -> str | None:
                i = columns.get(kind)
                if i is None or i >= len(cells):
                    return None
                value = cells[i]
                return value.strip() if value is not None and value.strip() else None

            name = cell("intervention")
            code = cell("intervention_code") or (self.intervention_code(name) if name else None)
            pupil_cells = [c for kind in ("pupil", "pupils") if (c := cell(kind)) is not None]
            pupils = [
                p.strip() for text in pupil_cells for p in _PUPIL_SEPARATOR.split(text) if p.strip()
            ]
            if name is None and code is None and not pupils:
                skipped.append(SkippedRow(row, "names no pupil or intervention"))
                continue

            if code is not None and code not in self.catalogue:
                known = interventions.get(code)
                if known is None:
                    known = _Intervention(code, name or code, row)
                    interventions[code] = known
                for kind in CATALOGUE_COLUMNS:
                    value = cell(kind)
                    if value is None:
                        continue
                    if kind in MONEY_COLUMNS:
                        value = _money(value) or value
                    if kind not in known.values:
                        known.values[kind] = value
                    elif known.values[kind] != value:
                        known.conflicts.add(kind)

            if not pupils:
                skipped.append(SkippedRow(row, "names no pupil"))
                continue

            start = cell("start_date")
            per_week = cell("sessions_per_week")
            sessions = cell("sessions_planned")
            if sessions is None:
                sessions = planned_sessions(per_week, start, cell("end_date"))
                if per_week is not None and not _NUMBER.match(per_week):
                    unreadable_per_week.append(row)
            group_column = cell("pupil_group")
            extra = {h: (cells[i] if i < len(cells) else None) or "" for i, h in kept.items()}
            for pupil in pupils:
                pupil_name, own_group = split_pupil(pupil)
                group = own_group or group_column
                values = dict.fromkeys(ENTITIES["provision_enrolments"].raw_columns)
                values.update({k: cell(k) for k in ENROLMENT_COLUMNS})
                values.update(
                    enrolment_id=stable_id(
                        "PT",
                        "tracker",
                        self.school_urn or "",
                        answer_key(name or code or ""),
                        answer_key(pupil_name or ""),
                        answer_key(group or ""),
                        answer_key(start or ""),
                    ),
                    school_urn=self.school_urn,
                    intervention_code=code,
                    sessions_planned=sessions,
                    pupil_name=pupil_name,
                    pupil_group=group,
                )
                records.append(SourceRecord("provision_enrolments", values, row, dict(extra)))

        for known in interventions.values():
            values = dict.fromkeys(ENTITIES["interventions"].raw_columns)
            values.update(known.values)
            values.update(intervention_code=known.code, intervention_name=known.name)
            records.append(SourceRecord("interventions", values, known.first_row))
            if known.conflicts:
                warnings.append(
                    f"intervention {known.name!r}: rows disagree on "
                    f"{', '.join(sorted(known.conflicts))}; row {known.first_row}'s value "
                    "is used for the catalogue"
                )
        if unreadable_per_week:
            warnings.append(
                f"{len(unreadable_per_week)} row(s) have a sessions per week that is not a "
                f"number (rows {_rows(unreadable_per_week)}): sessions_planned left empty"
            )
        return ReadResult(
            file_name=path.name,
            source=self.name,
            records=records,
            unknown_columns=unknown,
            skipped=sorted(skipped, key=lambda skipped: skipped.source_row),
            warnings=[*table.warnings, *warnings],
        )


def _rows(rows: Sequence[int], shown: int = 10) -> str:
    return ", ".join(str(r) for r in rows[:shown]) + (" ..." if len(rows) > shown else "")


def _locate(header: Sequence[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Which column holds what (first match wins), the unknown headers, and warnings."""
    alias: dict[str, str] = {}
    for kind, names in TRACKER_COLUMNS.items():
        for n in names:
            alias.setdefault(normalise_header(n), kind)
    columns: dict[str, int] = {}
    unknown: list[str] = []
    warnings: list[str] = []
    for i, name in enumerate(header):
        key = normalise_header(name)
        if not key:
            continue
        meaning = alias.get(key)
        if meaning is None:
            unknown.append(name)
        elif meaning in columns:
            warnings.append(f"column {name!r} repeats {meaning.replace('_', ' ')}: not used")
            unknown.append(name)
        else:
            columns[meaning] = i
    return columns, unknown, warnings
