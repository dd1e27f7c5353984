"""Reader for the DfE Common Transfer File (CTF, XML), versions 17 to 25.

A CTF is the file a school's MIS writes when pupils move school, or for a whole cohort. It
carries pupils, their FSM and SEN history, attendance marks and Key Stage results, so a
school can load them without retyping or mapping columns. See docs/ctf-import.md for what
is taken from the file, into which canonical columns, and every choice made on the way.

Safety: a CTF comes from outside the school. It is parsed only with defusedxml, with DTDs,
entity declarations and external references all refused, and a file larger than
``max_bytes`` is refused before a byte of it is parsed. Parsing is streamed (iterparse)
and each ``<Pupil>`` is dropped from the tree once read, so memory does not grow with the
file; the records themselves are produced lazily from a compact summary of each pupil.

Privacy: warnings and errors name pupils only by their ordinal in the file ("pupil 12"),
never by name, UPN or date of birth, because the import report is shown and kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from pyexpat import ErrorString
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import holidays
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

from empowered.sources.errors import SourceError
from empowered.sources.records import ReadResult, SourceRecord

DEFAULT_MAX_BYTES = 200 * 1024 * 1024

# Top-level children of <Pupil> the reader knows (docs/ctf-import.md). Anything else is
# listed once in ReadResult.unknown_columns so a newer CTF version is noticed, not lost.
KNOWN_PUPIL_CHILDREN = frozenset(
    {
        "UPN",
        "UniqueLearnerNumber",
        "UCI",
        "FormerUPN",
        "Surname",
        "Forename",
        "DOB",
        "Gender",
        "Sex",
        "BasicDetails",
        "LookedAfter",
        "FSMhistory",
        "SENhistory",
        "Address",
        "Phones",
        "Email",
        "Contacts",
        "Attendance",
        "StageAssessments",
        "SchoolHistory",
    }
)

# InCare is an xs:boolean; the canonical format says Y/N. The same value re-spelled, not a
# judgement, so the reader does it; anything else is passed through as written for staging
# to reject.
_IN_CARE = {"true": "Y", "1": "Y", "false": "N", "0": "N", "y": "Y", "n": "N"}

# A result is a scaled score when the file says so in Method, Component or ResultQualifier
# with one of these markers, or when it is a whole number 80..120 (the KS2 scaled-score
# range) in a KS2 reading, maths or grammar test. Teacher assessments ("TA") are never.
SCALED_SCORE_MARKERS = frozenset({"SS", "SCS", "SCALED"})
KS2_SCALED_RANGE = (80, 120)
KS2_SCALED_SUBJECTS = frozenset({"reading", "maths", "grammar"})
# KS2 tests are sat in the second week of May; the exact day is not in the file, so a
# result is dated 31 May of its Year: after every test day, before results come back.
ASSESSED_MONTH_DAY = "05-31"

# CTF subject and component codes -> the canonical lower-case subject. A component is more
# specific than its subject (ENG + RD is reading), so it is looked up first.
_SUBJECT_OF_CODE = {
    "MAT": "maths",
    "MA": "maths",
    "REA": "reading",
    "RD": "reading",
    "READ": "reading",
    "GPS": "grammar",
    "WRI": "writing",
    "WR": "writing",
    "WRIT": "writing",
    "SPE": "spelling",
    "SP": "spelling",
    "ENG": "english",
    "SCI": "science",
}

# Marks that stand for "no session to record" rather than a register code.
_NO_MARK = "-"
_BLANK_MARK = " "
# A marks string is about 380 characters a year. Thirty years is far beyond any real file
# and keeps the date arithmetic of a hostile file inside the calendar.
MAX_SESSIONS_PER_STRING = 2 * 366 * 30
_YEAR_RANGE = (1900, 2199)

# ASCII only: int() would accept other scripts' digits, which no CTF writes.
_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_NUMBER = re.compile(r"\s*\d{1,4}(?:\.\d+)?\s*", re.ASCII)
_YEAR = re.compile(r"\s*\d{4}\s*", re.ASCII)
_ROOT_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?CTfile[\s>/]")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s[^>]*?\b(SYSTEM|PUBLIC)\b|<!ENTITY\s", re.DOTALL)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# How much of the file's start is searched to explain a refused DTD (diagnosis only: the
# refusal itself is defusedxml's).
_PROLOG_SCAN = 1 << 20


# --------------------------------------------------------------------------------------
# What one pupil contributes, kept compact so the XML tree can be thrown away.


@dataclass(frozen=True)
class _Header:
    urn: str | None = None
    lea: str | None = None
    estab: str | None = None
    name: str | None = None
    file_date: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Sen:
    start_date: str | None
    provision: str | None
    primary: str | None
    secondary: str | None
    others: str | None  # needs beyond two ranks, kept in extra


@dataclass(frozen=True)
class _Need:
    """A need written with its own dates (SENneed/NeedStartDate, NeedEndDate): it holds
    for its own period, whichever SEN entry it is written beside."""

    kind: str | None
    rank: str | None
    start: str
    end: str | None


@dataclass(frozen=True)
class _Marks:
    start: date
    marks: str
    lea: str | None
    estab: str | None
    year: str | None


@dataclass(frozen=True)
class _YearTotals:
    """A YearData's session counts for one academic year at the school that recorded them."""

    year: int  # the year the academic year starts in (2025 = 2025/26)
    lea: str | None
    estab: str | None
    possible: str | None
    attended: str | None
    authorised: str | None
    unauthorised: str | None


@dataclass(frozen=True)
class _Result:
    assessed_on: str | None
    subject: str
    assessment: str
    value: str
    extra: dict[str, str]


@dataclass(frozen=True)
class _Pupil:
    ordinal: int
    values: dict[str, str | None]
    extra: dict[str, str]
    year_group: str | None
    looked_after: str | None
    fsm: tuple[tuple[date, date | None], ...]
    sen: tuple[_Sen, ...]
    needs: tuple[_Need, ...]
    marks: tuple[_Marks, ...]
    results: tuple[_Result, ...]
    year_totals: tuple[_YearTotals, ...] = ()


class _Notes:
    """Warnings gathered while reading, grouped by reason so 2,000 pupils with the same
    problem make one line, and naming pupils only by ordinal."""

    def __init__(self) -> None:
        self._pupils: dict[str, list[int]] = {}
        self._counts: dict[str, int] = {}

    def pupil(self, ordinal: int, reason: str) -> None:
        seen = self._pupils.setdefault(reason, [])
        if not seen or seen[-1] != ordinal:
            seen.append(ordinal)

    def count(self, reason: str, n: int, ordinal: int) -> None:
        """Add ``n`` to a counted reason ("{n} sessions ..."); ``ordinal`` is remembered."""
        if n:
            self._counts[reason] = self._counts.get(reason, 0) + n
            self.pupil(ordinal, reason)

    def render(self) -> list[str]:
        out = []
        for reason, ordinals in self._pupils.items():
            text = reason.format(n=self._counts[reason]) if reason in self._counts else reason
            out.append(f"{text} ({_pupil_list(ordinals)})")
        return out


def _pupil_list(ordinals: list[int], shown: int = 5) -> str:
    head = ", ".join(str(o) for o in ordinals[:shown])
    label = "pupil" if len(ordinals) == 1 else "pupils"
    more = len(ordinals) - shown
    return f"{label} {head} and {more} more" if more > 0 else f"{label} {head}"


# --------------------------------------------------------------------------------------
# Small helpers on elements and text.


def _local(tag: str) -> str:
    # Namespaced tags arrive as "{uri}Name"; CTF element names are matched without them.
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def _text(elem: Element | None) -> str | None:
    """The element's text exactly as written; None when absent or blank."""
    if elem is None:
        return None
    text = elem.text
    if text is None or not text.strip():
        return None
    return text


def _child_text(parent: Element | None, path: str) -> str | None:
    return None if parent is None else _text(parent.find(path))


def _parse_date(text: str | None) -> date | None:
    """An xs:date (or the date part of an xs:dateTime), or None if it is not one."""
    if text is None:
        return None
    m = _ISO_DATE.match(text)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _code(text: str | None) -> str:
    return (text or "").strip().upper()


@lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_ctf_school_day(day: date) -> bool:
    """True for the days a CTF marks string has two characters for: weekdays that are not
    bank holidays in England. A school's own closures (INSET days, holidays) are still in
    the string, usually as '#'. The CTF writer of the synthetic trust uses this too."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _academic_year(day: date) -> tuple[date, date]:
    start = day.year if day.month >= 9 else day.year - 1
    return date(start, 9, 1), date(start + 1, 8, 31)


# --------------------------------------------------------------------------------------
# The reader.


class CtfReader:
    """Reads a Common Transfer File into canonical records (docs/ctf-import.md)."""

    name = "ctf"

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        school: str | None = None,
        schools: Mapping[str, str] | None = None,
    ) -> None:
        """``school``: the destination URN the importer was given (--school); ``schools``:
        the warehouse's schools by URN and by DfE number (LA code and establishment
        number), to find the destination the header names (``DestSchool``)."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self.school = school
        self.schools = dict(schools or {})

    def _destination(self, header: _Header) -> str | None:
        """The school the file's pupils belong to now: the one the importer was given, or
        the header's destination when it is a school of this warehouse (by URN, or by its
        LA code and establishment number, which is all many CTFs give), else the source
        school (a school's own export)."""
        if self.school:
            return self.school
        dest = header.extra
        for key in (
            dest.get("dest_urn"),
            (dest.get("dest_lea") or "") + (dest.get("dest_estab") or ""),
        ):
            if key and key in self.schools:
                return self.schools[key]
        return header.urn

    def recognises(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".xml":
            return False
        for bom in _UTF16_BOMS:
            if head.startswith(bom):
                codec = "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
                head = head[2:].decode(codec, errors="ignore").encode("utf-8")
                break
        head = head.removeprefix(_UTF8_BOM)
        return _ROOT_TAG.search(head) is not None

    def read(self, path: Path) -> ReadResult:
        path = Path(path)
        file_name = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise SourceError(file_name, f"the file could not be opened ({exc.strerror})") from None
        if size > self.max_bytes:
            raise SourceError(
                file_name,
                f"the file is {_size(size)}, more than the {_size(self.max_bytes)}"
                " limit for a Common Transfer File; it was not opened (a CTF of a whole"
                " school is a few megabytes, so this is probably not a CTF)",
            )
        notes = _Notes()
        unknown: dict[str, None] = {}
        try:
            header, pupils = self._parse(path, notes, unknown)
        except OSError as exc:
            raise SourceError(file_name, f"the file could not be read ({exc.strerror})") from None
        destination = self._destination(header)
        transfer = destination is not None and destination != header.urn
        warnings = self._file_warnings(header, pupils, transfer=transfer)
        warnings.extend(notes.render())
        if transfer:
            warnings.insert(
                0,
                f"a transfer in from {header.name or 'another school'} (URN "
                f"{header.urn or 'not given'}): the pupils are placed at {destination}, with "
                "their SEN history, characteristics and results; the earlier school's "
                "attendance marks are kept with the pupil's record, not counted as this "
                "school's attendance",
            )
        return ReadResult(
            file_name=file_name,
            source=self.name,
            records=_CtfRecords(header, pupils, destination, transfer),
            unknown_columns=list(unknown),
            warnings=warnings,
        )

    # -- parsing ------------------------------------------------------------------------

    def _parse(
        self, path: Path, notes: _Notes, unknown: dict[str, None]
    ) -> tuple[_Header, list[_Pupil]]:
        file_name = path.name
        header = _Header()
        pupils: list[_Pupil] = []
        stack: list[str] = []
        root: Element | None = None
        pupil_data: Element | None = None
        with path.open("rb") as handle:
            events = _safe_events(path, handle)
            for event, elem in events:
                if event == "start":
                    elem.tag = _local(elem.tag)
                    if root is None:
                        if elem.tag != "CTfile":
                            raise SourceError(
                                file_name,
                                "is not a Common Transfer File: its root element is"
                                f" <{elem.tag[:40]}>, not <CTfile>",
                            )
                        root = elem
                    elif len(stack) == 1 and elem.tag == "CTFpupilData":
                        pupil_data = elem
                    stack.append(elem.tag)
                    continue
                stack.pop()
                depth = len(stack)
                if depth == 2 and elem.tag == "Pupil" and stack[1] == "CTFpupilData":
                    pupils.append(_read_pupil(elem, len(pupils) + 1, notes, unknown))
                    # Drop the pupil's subtree: memory stays flat however many pupils.
                    if pupil_data is not None:
                        pupil_data.remove(elem)
                elif depth == 1 and root is not None:
                    if elem.tag == "Header":
                        header = _read_header(elem)
                    if elem.tag != "CTFpupilData":
                        root.remove(elem)
        if root is None:  # pragma: no cover - expat reports an empty document itself
            raise SourceError(file_name, "the file is empty")
        return header, pupils

    def _file_warnings(self, header: _Header, pupils: list[_Pupil], *, transfer: bool) -> list[str]:
        warnings = []
        if header.urn is None and not transfer:
            warnings.append(
                "the header names no source school URN (Header/SourceSchool/URN), so the"
                " pupils' records cannot be placed at a school and staging will reject them"
            )
        if header.file_date is None:
            warnings.append(
                "the header has no usable DateTime, so year group and looked-after status"
                " (which describe the day the file was written) were left out of the"
                " characteristics; only the FSM history was read"
            )
        elsewhere = [
            p.ordinal
            for p in pupils
            if any(
                (m.lea is not None and m.lea.strip() != (header.lea or "").strip())
                or (m.estab is not None and m.estab.strip() != (header.estab or "").strip())
                for m in p.marks
            )
        ]
        if elsewhere and not transfer:
            warnings.append(
                "attendance YearData from another school (its LEA/Estab differ from the"
                " source school) was recorded against the source school, with the YearData's"
                f" LEA and Estab kept in extra ({_pupil_list(elsewhere)})"
            )
        return warnings


ENTITIES_REASON = "the file declares XML entities, which EmpowerED+ refuses for safety"
EXTERNAL_REASON = (
    "the file declares an external XML entity (a reference to a file or web address),"
    " which EmpowerED+ refuses for safety: it could read files on this computer"
)
EXTERNAL_DTD_REASON = (
    "the file refers to an external document type definition (DTD), which EmpowerED+"
    " refuses for safety: it could read files on this computer or reach the network"
)
DTD_REASON = (
    "the file contains a document type declaration (DTD), which EmpowerED+ refuses for"
    " safety; a Common Transfer File never needs one"
)
UNSAFE_REASON = "the file uses XML features EmpowerED+ refuses for safety"
ENCODING_REASON = (
    "the file's XML declaration names a character encoding EmpowerED+ cannot read;"
    " export the CTF again as UTF-8"
)


def _safe_events(path: Path, handle: BinaryIO) -> Iterator[tuple[str, Element]]:
    """(event, element) pairs from defusedxml's iterparse, with every parser failure turned
    into a SourceError. Only the parser's own steps are inside the ``try``, so a bug in
    the code that reads the elements is never reported as a fault in the file."""
    file_name = path.name
    try:
        events = SafeET.iterparse(
            handle,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        while True:
            try:
                event, elem = next(events)
            except StopIteration:
                return
            yield event, elem
    except DTDForbidden as exc:
        raise SourceError(file_name, _dtd_reason(path, exc)) from None
    except EntitiesForbidden:
        raise SourceError(file_name, ENTITIES_REASON) from None
    except ExternalReferenceForbidden:
        raise SourceError(file_name, EXTERNAL_REASON) from None
    except DefusedXmlException:
        raise SourceError(file_name, UNSAFE_REASON) from None
    except ParseError as exc:
        raise SourceError(file_name, _malformed_reason(exc)) from None
    except (LookupError, ValueError):
        # pyexpat raises these for an XML declaration naming an encoding it cannot use
        # (unknown, multi-byte other than UTF-8/16, or not a text encoding at all).
        raise SourceError(file_name, ENCODING_REASON) from None


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _dtd_reason(path: Path, exc: DTDForbidden) -> str:
    """Say which kind of DTD was refused. defusedxml stops at the DOCTYPE itself, before
    any entity is declared, so the declarations are looked for in the raw bytes (they are
    never parsed or expanded here)."""
    with path.open("rb") as handle:
        prolog = handle.read(_PROLOG_SCAN)
    kinds = {m.group(1) is not None for m in _ENTITY_DECL.finditer(prolog)}
    if True in kinds:
        return EXTERNAL_REASON
    if False in kinds:
        return ENTITIES_REASON
    if exc.sysid or exc.pubid:
        return EXTERNAL_DTD_REASON
    return DTD_REASON


def _malformed_reason(exc: ParseError) -> str:
    line, column = exc.position
    try:
        what = ErrorString(exc.code)
    except (TypeError, ValueError):  # pragma: no cover - every expat code has a message
        what = "not well-formed"
    # expat counts columns from 0; people count from 1.
    return f"the file is not well-formed XML ({what}) at line {line}, column {column + 1}"


def _read_header(elem: Element) -> _Header:
    source = elem.find("SourceSchool")
    dest = elem.find("DestSchool")
    extra: dict[str, str] = {}
    for key, parent, path in (
        ("ctf_version", elem, "CTFversion"),
        ("date_time", elem, "DateTime"),
        ("document_qualifier", elem, "DocumentQualifier"),
        ("supplier_id", elem, "SupplierID"),
        ("academic_year", source, "AcademicYear"),
        ("dest_lea", dest, "LEA"),
        ("dest_estab", dest, "Estab"),
        ("dest_urn", dest, "URN"),
    ):
        value = _child_text(parent, path)
        if value is not None:
            extra[key] = value
    return _Header(
        urn=_child_text(source, "URN"),
        lea=_child_text(source, "LEA"),
        estab=_child_text(source, "Estab"),
        name=_child_text(source, "SchoolName"),
        file_date=_parse_date(_child_text(elem, "DateTime")),
        extra=extra,
    )


def _read_pupil(elem: Element, ordinal: int, notes: _Notes, unknown: dict[str, None]) -> _Pupil:
    for child in elem:
        if child.tag not in KNOWN_PUPIL_CHILDREN:
            unknown.setdefault(child.tag, None)
    basic = elem.find("BasicDetails")
    # CTF 24 renamed Gender to Sex; files from either side of the change are read.
    sex = _child_text(elem, "Sex")
    if sex is None:
        sex = _child_text(elem, "Gender")
    values: dict[str, str | None] = {
        "mis_id": None,
        "upn": _child_text(elem, "UPN"),
        "forename": _child_text(elem, "Forename"),
        "surname": _child_text(elem, "Surname"),
        "date_of_birth": _child_text(elem, "DOB"),
        "sex": sex,
        "ethnicity": _child_text(basic, "Ethnicity"),
        "first_language": _first_language(elem, basic),
        "entry_date": None,
        "leaving_date": None,
    }
    extra = {}
    enrol = _child_text(basic, "EnrolStatus")
    if enrol is not None:
        extra["enrol_status"] = enrol
    in_care = _child_text(elem, "LookedAfter/InCare")
    looked_after = None if in_care is None else _IN_CARE.get(in_care.strip().lower(), in_care)
    return _Pupil(
        ordinal=ordinal,
        values=values,
        extra=extra,
        year_group=_child_text(basic, "NCyearActual"),
        looked_after=looked_after,
        fsm=_read_fsm(elem, ordinal, notes),
        sen=_read_sen(elem, ordinal, notes),
        needs=_dated_needs(elem),
        marks=_read_marks(elem, ordinal, notes),
        results=_read_results(elem, ordinal, notes),
        year_totals=_read_year_totals(elem),
    )


def _first_language(elem: Element, basic: Element | None) -> str | None:
    # Languages sits in BasicDetails; some older exports put it directly under Pupil.
    for parent in (basic, elem):
        if parent is None:
            continue
        for entry in parent.iterfind("Languages/Type"):
            if _code(_child_text(entry, "LanguageType")) == "F":
                return _child_text(entry, "Language")
    return None


def _read_fsm(elem: Element, ordinal: int, notes: _Notes) -> tuple[tuple[date, date | None], ...]:
    spans = []
    for inst in elem.iterfind("FSMhistory/FSMinstance"):
        start = _parse_date(_child_text(inst, "FSMstartDate"))
        end_text = _child_text(inst, "FSMendDate")
        end = _parse_date(end_text)
        if start is None:
            notes.pupil(
                ordinal,
                "an FSM instance has no usable FSMstartDate (YYYY-MM-DD), so it was left out"
                " of the FSM history",
            )
        elif end_text is not None and end is None:
            notes.pupil(
                ordinal,
                "an FSM instance has an FSMendDate that is not a date (YYYY-MM-DD), so it"
                " was left out of the FSM history",
            )
        elif end is not None and end < start:
            notes.pupil(
                ordinal,
                "an FSM instance ends before it starts, so it was left out of the FSM history",
            )
        elif not _YEAR_RANGE[0] <= start.year <= _YEAR_RANGE[1] or (
            end is not None and end.year > _YEAR_RANGE[1]
        ):
            notes.pupil(
                ordinal,
                "an FSM instance has dates outside 1900-2199, so it was left out of the FSM"
                " history",
            )
        else:
            spans.append((start, end))
    return tuple(spans)


def _rank(text: str | None) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    return int(stripped) if stripped.isascii() and stripped.isdigit() else None


def _needs(container: Element) -> tuple[str | None, str | None, str | None] | None:
    """(primary, secondary, others) from a SENneeds element inside ``container``, or None
    when it has none. Rank 1 is primary and rank 2 secondary; needs without a usable rank
    fill the empty places in the order written; the rest are kept as "others"."""
    found = container.find("SENneeds")
    if found is None:
        return None
    slots: dict[int, str | None] = {}
    others: list[str] = []
    unranked: list[str | None] = []
    for need in found.iterfind("SENneed"):
        kind = _child_text(need, "SENtype")
        rank = _rank(_child_text(need, "SENtypeRank"))
        if rank in (1, 2) and rank not in slots:
            slots[rank] = kind
        elif rank is None:
            unranked.append(kind)
        elif kind is not None:
            others.append(kind)
    for kind in unranked:
        free = next((r for r in (1, 2) if r not in slots), None)
        if free is not None:
            slots[free] = kind
        elif kind is not None:
            others.append(kind)
    return slots.get(1), slots.get(2), ",".join(others) or None


def _read_sen(elem: Element, ordinal: int, notes: _Notes) -> tuple[_Sen, ...]:
    out: list[_Sen] = []
    for history in elem.iterfind("SENhistory"):
        entries = history.findall("SEN")
        own = [_needs(e) for e in entries]
        # Needs written beside the SEN entries (the usual CTF layout) describe the pupil's
        # current needs, so they belong to the latest entry, unless it has its own.
        beside = _needs(history)
        latest = _latest_index(entries)
        if beside is not None:
            if latest is None:
                notes.pupil(
                    ordinal,
                    "SENneeds were given without any SEN entry (StartDate, SENprovision), so"
                    " they were not imported",
                )
            elif own[latest] is not None:
                notes.pupil(
                    ordinal,
                    "SENneeds beside the SEN entries were not used because the latest SEN"
                    " entry has its own",
                )
            else:
                own[latest] = beside
        for entry, needs in zip(entries, own, strict=True):
            primary, secondary, others = needs if needs is not None else (None, None, None)
            out.append(
                _Sen(
                    start_date=_child_text(entry, "StartDate"),
                    provision=_child_text(entry, "SENprovision"),
                    primary=primary,
                    secondary=secondary,
                    others=others,
                )
            )
    return tuple(out)


def _dated_needs(elem: Element) -> tuple[_Need, ...]:
    """Every SENneed of the pupil that gives its own start date, wherever it is written."""
    return tuple(
        _Need(
            kind=_child_text(need, "SENtype"),
            rank=_child_text(need, "SENtypeRank"),
            start=start,
            end=_child_text(need, "NeedEndDate"),
        )
        for need in elem.iter("SENneed")
        if (start := _child_text(need, "NeedStartDate")) is not None
    )


def _latest_index(entries: list[Element]) -> int | None:
    if not entries:
        return None
    best = len(entries) - 1  # document order decides when dates cannot
    best_date: date | None = None
    for i, entry in enumerate(entries):
        day = _parse_date(_child_text(entry, "StartDate"))
        if day is not None and (best_date is None or day >= best_date):
            best, best_date = i, day
    return best


def _read_marks(elem: Element, ordinal: int, notes: _Notes) -> tuple[_Marks, ...]:
    out = []
    for year_data in elem.iterfind("Attendance/YearData"):
        lea = _child_text(year_data, "LEA")
        estab = _child_text(year_data, "Estab")
        year = _child_text(year_data, "Year")
        for sessions in year_data.iterfind("AttendSessions"):
            raw = _text(sessions.find("AttendanceMarks"))
            if raw is None:
                continue
            # Line breaks and tabs at the ends come from pretty-printing, never from the
            # register; a space is a session (a blank mark) and is kept.
            marks = raw.strip("\r\n\t")
            start = _parse_date(_child_text(sessions, "AttendanceStartDate"))
            if start is None:
                notes.count(
                    "{n} attendance marks were not imported because their"
                    " AttendanceStartDate is missing or not a date (YYYY-MM-DD)",
                    len(marks),
                    ordinal,
                )
                continue
            if not _YEAR_RANGE[0] <= start.year <= _YEAR_RANGE[1]:
                notes.count(
                    "{n} attendance marks were not imported because their"
                    " AttendanceStartDate is outside 1900-2199",
                    len(marks),
                    ordinal,
                )
                continue
            if len(marks) > MAX_SESSIONS_PER_STRING:
                notes.count(
                    "{n} attendance marks were not imported because one AttendanceMarks"
                    f" string is longer than {MAX_SESSIONS_PER_STRING} sessions (30 years)",
                    len(marks),
                    ordinal,
                )
                continue
            notes.count(
                "{n} attendance sessions marked '-' (no mark required) were skipped",
                marks.count(_NO_MARK),
                ordinal,
            )
            notes.count(
                "{n} blank attendance sessions (a space in AttendanceMarks) were skipped",
                marks.count(_BLANK_MARK),
                ordinal,
            )
            out.append(_Marks(start=start, marks=marks, lea=lea, estab=estab, year=year))
    return tuple(out)


def _read_year_totals(elem: Element) -> tuple[_YearTotals, ...]:
    """Each YearData's SessionsPossible, SessionsAttended, SessionsAuthorised and
    SessionsUnauthorised (a YearData without a usable Year or SessionsPossible is skipped:
    there is no period or nothing to count). The counts stay text for staging to check."""
    out = []
    for year_data in elem.iterfind("Attendance/YearData"):
        year = _child_text(year_data, "Year")
        possible = _child_text(year_data, "SessionsPossible")
        if year is None or not year.strip().isdigit() or possible is None:
            continue
        start = int(year.strip())
        if not _YEAR_RANGE[0] <= start <= _YEAR_RANGE[1]:
            continue
        out.append(
            _YearTotals(
                year=start,
                lea=_child_text(year_data, "LEA"),
                estab=_child_text(year_data, "Estab"),
                possible=possible,
                attended=_child_text(year_data, "SessionsAttended"),
                authorised=_child_text(year_data, "SessionsAuthorised"),
                unauthorised=_child_text(year_data, "SessionsUnauthorised"),
            )
        )
    return tuple(out)


def _subject(subject: str | None, component: str | None) -> str:
    comp = _code(component)
    if comp in _SUBJECT_OF_CODE and comp != "ENG":
        return _SUBJECT_OF_CODE[comp]
    code = _code(subject)
    return _SUBJECT_OF_CODE.get(code, code.lower())


def _read_results(elem: Element, ordinal: int, notes: _Notes) -> tuple[_Result, ...]:
    out = []
    for stage_elem in elem.iterfind("StageAssessments/KeyStage"):
        stage = _child_text(stage_elem, "Stage")
        for sa in stage_elem.iterfind("StageAssessment"):
            result = _child_text(sa, "Result")
            method = _child_text(sa, "Method")
            component = _child_text(sa, "Component")
            qualifier = _child_text(sa, "ResultQualifier")
            subject_code = _child_text(sa, "Subject")
            subject = _subject(subject_code, component)
            if result is None or _NUMBER.fullmatch(result) is None:
                notes.count(
                    "{n} Key Stage results are not numbers (e.g. EXS, WTS, GDS teacher"
                    " assessments) and were not imported as assessments",
                    1,
                    ordinal,
                )
                continue
            marked = {_code(method), _code(component), _code(qualifier)} & SCALED_SCORE_MARKERS
            in_range = (
                _code(stage) == "KS2"
                and _code(method) != "TA"
                and subject in KS2_SCALED_SUBJECTS
                and result.strip().isdigit()
                and KS2_SCALED_RANGE[0] <= int(result.strip()) <= KS2_SCALED_RANGE[1]
            )
            if not (marked or in_range):
                notes.count(
                    "{n} numeric Key Stage results are not recognised as scaled scores"
                    " and were not imported as assessments",
                    1,
                    ordinal,
                )
                continue
            year = _child_text(sa, "Year")
            assessed_on = None
            if year is not None and _YEAR.fullmatch(year):
                assessed_on = f"{year.strip()}-{ASSESSED_MONTH_DAY}"
            else:
                notes.pupil(
                    ordinal,
                    "a Key Stage scaled score has no usable Year, so its assessed_on is empty",
                )
            extra = {
                key: value
                for key, value in (
                    ("ctf_subject", subject_code),
                    ("locale", _child_text(sa, "Locale")),
                    ("year", year),
                    ("result_status", _child_text(sa, "ResultStatus")),
                    ("result_qualifier", qualifier),
                )
                if value is not None
            }
            name = " ".join(p.strip() for p in (stage, method, component) if p is not None)
            out.append(
                _Result(
                    assessed_on=assessed_on,
                    subject=subject,
                    assessment=name,
                    value=result,
                    extra=extra,
                )
            )
    return tuple(out)


# --------------------------------------------------------------------------------------
# Records, produced lazily from the compact pupils.


class _SchoolDays:
    """Consecutive school days (ISO text) from a start date, grown on demand and shared by
    every pupil whose marks start that day, so the calendar is walked once per start."""

    def __init__(self, start: date) -> None:
        self.days: list[str] = []
        self._next = start

    def take(self, n: int) -> list[str]:
        while len(self.days) < n:
            day = self._next
            while not is_ctf_school_day(day):
                day += timedelta(days=1)
            self.days.append(day.isoformat())
            self._next = day + timedelta(days=1)
        return self.days


class _CtfRecords:
    """The file's records. Iterating again produces them again (nothing is re-read)."""

    def __init__(
        self,
        header: _Header,
        pupils: list[_Pupil],
        urn: str | None = None,
        transfer: bool = False,
    ) -> None:
        self._header = header
        self._pupils = pupils
        self._urn = urn if urn is not None else header.urn
        self._transfer = transfer
        self._calendars: dict[date, _SchoolDays] = {}

    def __iter__(self) -> Iterator[SourceRecord]:
        # No schools record: a CTF knows the school's URN and name but not its phase or
        # trust, and a record without them would replace the school's full details. The
        # school comes from the trust's schools list; the CTF's rows name it by URN.
        for pupil in self._pupils:
            yield from self._pupil_records(pupil)

    def _pupil_records(self, pupil: _Pupil) -> Iterator[SourceRecord]:
        urn = self._urn
        upn = pupil.values["upn"]
        row = pupil.ordinal
        extra = dict(pupil.extra)
        if self._transfer:
            # The earlier school's register is not this school's: its marks are kept, as
            # written, with the pupil's record (raw), not counted as attendance here.
            extra["previous_school_urn"] = self._header.urn or ""
            extra["previous_school_attendance"] = json.dumps(
                [
                    {"lea": m.lea, "estab": m.estab, "year": m.year,
                     "start": m.start.isoformat(), "marks": m.marks}
                    for m in pupil.marks
                ]
            )  # fmt: skip
        yield SourceRecord("pupils", {"school_urn": urn, **pupil.values}, row, extra=extra)
        for effective, year_group, fsm, looked_after in self._characteristics(pupil):
            yield SourceRecord(
                "characteristics",
                {
                    "school_urn": urn,
                    "upn": upn,
                    "effective_date": effective.isoformat(),
                    "year_group": year_group,
                    "reg_group": None,
                    "fsm": fsm,
                    "pupil_premium": None,
                    "looked_after": looked_after,
                    "service_child": None,
                },
                row,
            )
        for sen in pupil.sen:
            yield SourceRecord(
                "sen_status",
                {
                    "school_urn": urn,
                    "upn": upn,
                    "start_date": sen.start_date,
                    "sen_provision": sen.provision,
                    "primary_need": sen.primary,
                    "secondary_need": sen.secondary,
                },
                row,
                extra={"other_needs": sen.others} if sen.others else {},
            )
        for need in pupil.needs:
            yield SourceRecord(
                "sen_needs",
                {
                    "school_urn": urn,
                    "upn": upn,
                    "need_type": need.kind,
                    "need_rank": need.rank,
                    "start_date": need.start,
                    "end_date": need.end,
                },
                row,
            )
        for block in () if self._transfer else pupil.marks:
            yield from self._attendance(urn, upn, row, block)
        for totals in pupil.year_totals if self._transfer else ():
            summary = self._earlier_school_year(urn, upn, row, totals)
            if summary is not None:
                yield summary
        for result in pupil.results:
            yield SourceRecord(
                "assessments",
                {
                    "school_urn": urn,
                    "upn": upn,
                    "assessed_on": result.assessed_on,
                    "subject": result.subject,
                    "assessment": result.assessment,
                    "measure": "scaled_score",
                    "value": result.value,
                },
                row,
                extra=dict(result.extra),
            )

    def _earlier_school_year(
        self, urn: str | None, upn: str | None, row: int, totals: _YearTotals
    ) -> SourceRecord | None:
        """A transfer's YearData as an attendance summary of the school that recorded it:
        history from that school, never counted as this school's attendance (see
        marts.attendance_summary_period). The school is named as the file names it: its
        LA and establishment number, and the source school's URN when the YearData is the
        source school's own. The period is the academic year, cut at the file's date for
        the year the file was written in; SessionsAttended is the sessions present
        (approved educational activity included, as the DfE counts it)."""
        header = self._header
        start, end = date(totals.year, 9, 1), date(totals.year + 1, 8, 31)
        if header.file_date is not None and start <= header.file_date < end:
            end = header.file_date
        lea = (totals.lea or header.lea or "").strip()
        estab = (totals.estab or header.estab or "").strip()
        own = (lea, estab) == ((header.lea or "").strip(), (header.estab or "").strip())
        from_urn = header.urn if own and header.urn else None
        from_laestab = f"{lea}{estab}" if lea and estab else None
        if from_urn is None and from_laestab is None:
            return None  # no school to keep it as history of, and it is not this school's
        return SourceRecord(
            "attendance_summary",
            {
                "school_urn": urn,
                "upn": upn,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "possible": totals.possible,
                "present": totals.attended,
                "approved_activity": None,
                "authorised": totals.authorised,
                "unauthorised": totals.unauthorised,
                "late": None,
                "from_school_urn": from_urn,
                "from_school_laestab": from_laestab,
            },
            row,
        )

    def _characteristics(self, pupil: _Pupil) -> Iterator[tuple[date, str | None, str, str | None]]:
        """One row per date on which something changes (docs/ctf-import.md):

        - the file's date: year group and looked-after status describe that day;
        - each FSMstartDate (FSM Y from that day) and the day after each FSMendDate (the
          end date is the last day of eligibility, so N from the next day).

        FSM on a date is Y when an instance covers it. Year group (NCyearActual) holds for
        the whole academic year of the file's date, so rows in that year carry it; rows
        in other years leave it empty. Looked-after status is only known from the file's
        date on. A row identical to the one before it is not repeated.
        """
        file_date = self._header.file_date
        changes: set[date] = {start for start, _ in pupil.fsm}
        changes.update(end + timedelta(days=1) for _, end in pupil.fsm if end is not None)
        year: tuple[date, date] | None = None
        if file_date is not None:
            changes.add(file_date)
            year = _academic_year(file_date)
        previous: tuple[str | None, str, str | None] | None = None
        for day in sorted(changes):
            fsm = "Y" if any(s <= day and (e is None or day <= e) for s, e in pupil.fsm) else "N"
            year_group = None
            looked_after = None
            if year is not None and year[0] <= day <= year[1]:
                year_group = pupil.year_group
            if file_date is not None and day >= file_date:
                looked_after = pupil.looked_after
            state = (year_group, fsm, looked_after)
            if state != previous:
                yield day, year_group, fsm, looked_after
                previous = state

    def _attendance(
        self, urn: str | None, upn: str | None, row: int, block: _Marks
    ) -> Iterator[SourceRecord]:
        calendar = self._calendars.get(block.start)
        if calendar is None:
            calendar = self._calendars[block.start] = _SchoolDays(block.start)
        days = calendar.take((len(block.marks) + 1) // 2)
        extra = {
            key: value
            for key, value in (
                ("year_data_lea", block.lea),
                ("year_data_estab", block.estab),
                ("year_data_year", block.year),
            )
            if value is not None
        }
        # This loop makes most of a file's records (about 380 per pupil a year), so it
        # works on whole days and skips what it can before building a record.
        marks = block.marks
        skip = (_NO_MARK, _BLANK_MARK)
        record = SourceRecord
        for day, i in zip(days, range(0, len(marks), 2), strict=False):
            for mark, session in zip(marks[i : i + 2], ("AM", "PM"), strict=False):
                if mark in skip:
                    continue
                values = {
                    "school_urn": urn,
                    "upn": upn,
                    "date": day,
                    "session": session,
                    "code": mark,
                }
                yield record("attendance", values, row, extra.copy())
