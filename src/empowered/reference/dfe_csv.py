"""Read the DfE's published CSV files (Explore Education Statistics) into national figures.

Two publications, read as they are downloaded, with no editing:

* "Special educational needs in England", the file "Pupils in all schools, by type of SEN
  provision" (``sen_phase_type.csv``). Two layouts are read:

  - to 2025, one row per school type, wide: ``time_period, time_identifier,
    geographic_level, country_code, country_name, region_name, region_code, old_la_code,
    la_name, new_la_code, phase_type_grouping, type_of_establishment, hospital_school,
    total_pupils, sen_support, ehc_plan, sen_support_percent, ehc_plan_percent``
    (the header and rows shown in the data catalogue's preview of the data sets
    bd752797-670b-49e8-8d28-ee50ee977d8f, "2016 to 2025", and
    ce4c0267-4068-4fda-8b04-51cf44fe8c60, "2016 to 2021"; region_name comes before
    region_code, and la_name before new_la_code, in those files);
  - "2026 format", long: ``..., phase_type_grouping, establishment_type, hospital_school,
    sen_provision, pupil_count, pupil_percent`` with ``sen_provision`` one of ``Total``,
    ``Education, health and care plan``, ``SEN support / SEN without an EHC plan``
    (preview of data set 338ca34e-3d56-406c-959a-28fc8c9b1cd6).

* "Pupil absence in schools in England", the files of absence by pupil characteristics:
  per term (``..., education_phase, characteristic, characteristic_breakdown, enrolments,
  ..., sess_overall_percent, ..., enrolments_pa_10_exact_percent, ...``; data sets
  1d929939-5f95-4481-b729-a2df92928534, autumn term, and
  a5f750db-286a-4d63-a31b-d2a5c1d6d7e0, autumn and spring terms) and for the full year
  (``time_period, time_identifier, absence_terms, ..., education_phase, breakdown_topic,
  breakdown, ...``; data set e2eb493a-dc95-41f4-96ef-b886c5cd2019). ``sess_overall_percent``
  is the overall absence rate and ``enrolments_pa_10_exact_percent`` the percentage of
  persistent absentees (10% or more missed), as the DfE's data guidance names them.
  Only the rows by SEN provision are kept (the DfE's own label list gives "SEN support",
  "Statement of SEN or EHC plan" and "No identified SEN" in the group "SEN provision").

Every file has ``geographic_level`` ``National``, ``Regional`` or ``Local authority``;
``time_period`` is six digits (``202425`` = 2024/25). The DfE marks a number it does not
give with a symbol: ``x`` not available or not applicable, ``z`` not applicable, ``c``
confidential, ``low`` rounds to zero, ``u`` low reliability, and ``:`` in older files.
Such a cell is *not available*, never zero: the figure is left out, and counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# What the DfE writes in a cell it gives no number for (data guidance, "conventions").
SUPPRESSION_SYMBOLS = frozenset({"x", "z", "c", "low", "u", ":", ".."})

GEOGRAPHIC_LEVELS = {"National": "national", "Regional": "regional", "Local authority": "la"}

# School types as the two publications spell them, and ours.
_SEN_SCHOOL_TYPES = {
    "Total": "all",
    "State-funded nursery": "nursery",
    "State-funded primary": "primary",
    "State-funded secondary": "secondary",
    "State-funded special school": "special",
    "State-funded AP school": "alternative_provision",
}
_ABSENCE_SCHOOL_TYPES = {
    "Total": "all",
    "State-funded primary": "primary",
    "State-funded secondary": "secondary",
    "Special": "special",
}
_SEN_TOPICS = frozenset({"sen provision", "sen status"})
_SEN_GROUPS = {
    "ehc plan": "ehc_plan",
    "statement of sen or ehc plan": "ehc_plan",
    "education, health and care plan": "ehc_plan",
    "sen support": "sen_support",
    "sen support / sen without an ehc plan": "sen_support",
    "no identified sen": "no_sen",
    "no sen": "no_sen",
    "no sen provision": "no_sen",
}
_PERIODS = {
    "Autumn term": ("autumn term", 12, 31, 0),
    "Autumn and spring term": ("autumn and spring terms", 3, 31, 1),
    "Spring term": ("spring term", 3, 31, 1),
    "Academic year": ("full year", 8, 31, 1),
}
PUBLICATIONS = {
    "sen": "Special educational needs in England",
    "absence": "Pupil absence in schools in England",
}
_GEOGRAPHY_HEADER = ("time_period", "time_identifier", "geographic_level")


class DfEFileError(ValueError):
    """A DfE file this command cannot read. Says the file, the data row (1 = first after
    the header), the column and the value, and why."""

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.value, self.reason = file, row, column, value, reason
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__(f"{', '.join(where)}: {reason}")


@dataclass(frozen=True)
class Figure:
    """One figure as the ``national_figure`` seed holds it, plus where it applies."""

    topic: str
    academic_year: str
    period: str
    measure: str
    group: str
    geography_level: str
    geography_code: str
    geography_name: str
    school_type: str
    value: float
    unit: str
    source: str
    effective_from: date


@dataclass(frozen=True)
class LocalAuthority:
    """A local authority as the files name it, with the region it is in."""

    old_la_code: str
    new_la_code: str
    la_name: str
    region_code: str
    region_name: str


@dataclass
class DfEFile:
    """What one file gave: its figures, the LAs it names, and the cells it withheld."""

    file: str
    publication: str
    figures: list[Figure] = field(default_factory=list)
    local_authorities: dict[str, LocalAuthority] = field(default_factory=dict)
    not_available: int = 0


def read_dfe_file(path: Path, *, keep: Mapping[str, str | None] | None = None) -> DfEFile:
    """Read one DfE CSV. ``keep`` maps a geography level (``national``, ``regional``,
    ``la``) to the one code to keep at it (None = every one); England is always kept.

    Raises DfEFileError (file, row, column, value, reason) for the first bad row.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DfEFileError("the file is not UTF-8 text (is it the CSV?)", file=path.name) from err
    return read_dfe_text(text, file=path.name, keep=keep)


def read_dfe_text(text: str, *, file: str, keep: Mapping[str, str | None] | None = None) -> DfEFile:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = [h.strip() for h in reader.fieldnames or ()]
    reader.fieldnames = header
    layout = _layout(header, file)
    out = DfEFile(file, layout.topic)
    wanted = {"national": None, **(keep or {})}
    try:
        for row_number, row in enumerate(reader, start=1):
            if None in row or any(v is None for v in row.values()):
                raise DfEFileError(
                    f"the row has {len(header)} columns in the header but not in the row",
                    file=file,
                    row=row_number,
                )
            _read_row(layout, row, row_number, wanted, out)
    except csv.Error as err:
        raise DfEFileError(f"unreadable CSV: {err}", file=file) from err
    return out


@dataclass(frozen=True)
class _Layout:
    topic: str  # "sen" or "absence"
    school_type_column: str
    school_types: Mapping[str, str]
    totals: tuple[str, ...]  # columns that must be "Total" for a row to be kept
    measures: tuple[tuple[str, str, str], ...]  # (column, measure, unit)
    group_columns: tuple[str, str] | None = None  # (topic column, breakdown column)
    long_sen: bool = False


def _layout(header: Sequence[str], file: str) -> _Layout:
    columns = set(header)
    for column in _GEOGRAPHY_HEADER:
        if column not in columns:
            raise DfEFileError(
                "not a DfE Explore Education Statistics file: the column is missing",
                file=file,
                column=column,
            )
    if {"phase_type_grouping", "ehc_plan_percent", "sen_support_percent"} <= columns:
        return _sen_layout(
            "type_of_establishment",
            (
                ("ehc_plan_percent", "pct_ehc_plan", "percent"),
                ("sen_support_percent", "pct_sen_support", "percent"),
                ("ehc_plan", "pupils_ehc_plan", "pupils"),
                ("sen_support", "pupils_sen_support", "pupils"),
            ),
        )
    if {"phase_type_grouping", "sen_provision", "pupil_percent"} <= columns:
        # The 2026 format: one row per SEN provision, its measure named by the row.
        measures = (("pupil_percent", "pct", "percent"), ("pupil_count", "pupils", "pupils"))
        return _sen_layout("establishment_type", measures, long_sen=True)
    measures = (
        ("sess_overall_percent", "overall_absence_rate", "percent"),
        ("enrolments_pa_10_exact_percent", "persistent_absence_rate", "percent"),
    )
    if {"sess_overall_percent", "education_phase", "characteristic"} <= columns:
        groups = ("characteristic", "characteristic_breakdown")
        return _Layout("absence", "education_phase", _ABSENCE_SCHOOL_TYPES, (), measures, groups)
    if {"sess_overall_percent", "education_phase", "breakdown_topic"} <= columns:
        groups = ("breakdown_topic", "breakdown")
        return _Layout("absence", "education_phase", _ABSENCE_SCHOOL_TYPES, (), measures, groups)
    raise DfEFileError(
        "not a file this command reads: expected 'Pupils in all schools, by type of SEN "
        "provision' (Special educational needs in England) or absence by pupil "
        "characteristics (Pupil absence in schools in England)",
        file=file,
    )


def _sen_layout(
    establishment: str, measures: tuple[tuple[str, str, str], ...], *, long_sen: bool = False
) -> _Layout:
    """Either layout of "Pupils in all schools, by type of SEN provision": the rows for all
    establishment types and hospital schools together ("Total"), by phase."""
    totals = (establishment, "hospital_school")
    return _Layout(
        "sen", "phase_type_grouping", _SEN_SCHOOL_TYPES, totals, measures, None, long_sen
    )


def _read_row(
    layout: _Layout,
    row: Mapping[str, str],
    number: int,
    wanted: Mapping[str, str | None],
    out: DfEFile,
) -> None:
    level = GEOGRAPHIC_LEVELS.get(row["geographic_level"].strip())
    if level is None:
        return  # e.g. Parliamentary constituency rows: not a geography the page uses
    if level == "la":
        _note_local_authority(row, out)
    code, name = _geography(level, row)
    if level not in wanted or wanted[level] not in (None, code, row.get("old_la_code", "")):
        return
    school_type = layout.school_types.get(row.get(layout.school_type_column, "").strip())
    if school_type is None or any(row.get(c, "").strip() != "Total" for c in layout.totals):
        return
    group = "all"
    if layout.group_columns is not None:
        topic_column, group_column = layout.group_columns
        if row[topic_column].strip().lower() not in _SEN_TOPICS:
            return
        found = _SEN_GROUPS.get(row[group_column].strip().lower())
        if found is None:
            return  # "Total", or a breakdown this page does not compare
        group = found
    prefix = ""
    if layout.long_sen:
        prefix = _long_sen_prefix(row["sen_provision"].strip())
        if not prefix:
            return
    year, period, effective = _period(layout.topic, row, number, out.file)
    source = f"DfE, {PUBLICATIONS[layout.topic]}, file {out.file}"
    for column, measure, unit in layout.measures:
        value = _number(row, column, number, out)
        if value is None:
            continue
        out.figures.append(
            Figure(
                layout.topic,
                year,
                period,
                f"{measure}_{prefix}" if prefix else measure,
                group,
                level,
                code,
                name,
                school_type,
                value,
                unit,
                source,
                effective,
            )
        )


def _long_sen_prefix(provision: str) -> str:
    return {
        "Education, health and care plan": "ehc_plan",
        "SEN support / SEN without an EHC plan": "sen_support",
    }.get(provision, "")


def _geography(level: str, row: Mapping[str, str]) -> tuple[str, str]:
    if level == "national":
        return row.get("country_code", "E92000001") or "E92000001", row.get(
            "country_name"
        ) or "England"
    if level == "regional":
        return row.get("region_code", "").strip(), row.get("region_name", "").strip()
    return row.get("new_la_code", "").strip(), row.get("la_name", "").strip()


def _note_local_authority(row: Mapping[str, str], out: DfEFile) -> None:
    old = row.get("old_la_code", "").strip()
    if old and old not in out.local_authorities:
        out.local_authorities[old] = LocalAuthority(
            old,
            row.get("new_la_code", "").strip(),
            row.get("la_name", "").strip(),
            row.get("region_code", "").strip(),
            row.get("region_name", "").strip(),
        )


def _period(topic: str, row: Mapping[str, str], number: int, file: str) -> tuple[str, str, date]:
    text = row["time_period"].strip()
    if len(text) != 6 or not text.isdigit() or int(text[4:]) != (int(text[:4]) + 1) % 100:
        raise DfEFileError(
            "expected an academic year as six digits, such as 202425",
            file=file,
            row=number,
            column="time_period",
            value=text,
        )
    start = int(text[:4])
    year = f"{start}/{text[4:]}"
    if topic == "sen":
        # The January census of the year: its figures hold from then.
        return year, f"January {start + 1} census", date(start + 1, 1, 15)
    identifier = row["time_identifier"].strip()
    if identifier not in _PERIODS:
        raise DfEFileError(
            "not a term this command knows (Autumn term, Autumn and spring term, Spring "
            "term, Academic year)",
            file=file,
            row=number,
            column="time_identifier",
            value=identifier,
        )
    period, month, day, year_offset = _PERIODS[identifier]
    # A term's figures hold from the last day it measured.
    return year, period, date(start + year_offset, month, day)


def _number(row: Mapping[str, str], column: str, number: int, out: DfEFile) -> float | None:
    text = row.get(column, "").strip()
    if text == "" or text.lower() in SUPPRESSION_SYMBOLS:
        out.not_available += 1
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise DfEFileError(
            "expected a number or one of the DfE's symbols for a figure not given "
            "(x, z, c, low, u)",
            file=out.file,
            row=number,
            column=column,
            value=text,
        ) from None
    if value < 0 or (column.endswith("percent") and value > 100):
        raise DfEFileError(
            "a percentage must be between 0 and 100, a count not negative",
            file=out.file,
            row=number,
            column=column,
            value=text,
        )
    return value


def read_dfe_files(
    paths: Iterable[Path], *, keep: Mapping[str, str | None] | None = None
) -> Iterator[DfEFile]:
    """Each file in turn; the first bad row of any stops the lot (see DfEFileError)."""
    for path in paths:
        yield read_dfe_file(path, keep=keep)
