"""Students as the data aggregators give them: a page of Wonde's or Assembly's students API
saved as JSON. Many schools' data leaves the MIS that way.

Wonde (``GET /schools/{id}/students?include=education_details,extended_details``) wraps a
page as ``{"data": [...], "meta": {"pagination": {"next": ...}}}``, each relation as
``{"data": {...}}`` and each date as ``{"date": "2019-05-02 00:00:00.000000", ...}``.
Assembly (``GET /students?demographics=true&sen_needs=true&languages=true``) gives
``{"object": "list", "data": [...], "next_page": ...}``, with the SEN status history and
the ranked needs (``priority``) in ``demographics``, and 2079-06-06 as "no end date".

Assembly's attendance summaries (``GET /attendances/summaries``: ``student_id``,
``start_date``, ``end_date``, ``possible_sessions``, ``attended_sessions``,
``late_sessions``, ``authorised_absence_sessions``, ``unauthorised_absence_sessions``) name
the pupil by Assembly's own student id, which no MIS export holds. So an Assembly student
carries that id as its ``aggregator_id`` (written ``assembly:<id>``, blind-indexed as a MIS
id is) and each summary names the pupil by it in ``mis_id``: import the students first.

Each student becomes canonical records as a student list's row does (pupils, a
characteristics snapshot on the export date, SEN status, ranked needs), with values in
the words and dates every reader shares (``mapping.standard_value``). Where a field comes
from is declared once per system below. Row numbers are positions in ``data`` (1-based).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from empowered.sources.errors import SourceError
from empowered.sources.mapping import standard_value
from empowered.sources.records import ReadResult, SourceRecord

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
NO_END = "2079-06-06"  # Assembly's end date for a student who has not left
NO_NEEDS: dict[str, str | None] = {"primary_need": None, "secondary_need": None}
# Assembly's attendance summaries are read by their own fields, not through a mapping.
SUMMARY_FIELDS: dict[str, dict[str, str]] = {}

# Canonical entity -> column -> the student's field, as a path into its JSON object.
WONDE: dict[str, dict[str, str]] = {
    "pupils": {
        "mis_id": "mis_id",
        "upn": "education_details.data.upn",
        "forename": "legal_forename|forename",
        "surname": "legal_surname|surname",
        "date_of_birth": "date_of_birth",
        "sex": "gender",
        "ethnicity": "extended_details.data.ethnicity",
        "first_language": "extended_details.data.first_language",
        "entry_date": "education_details.data.admission_date",
        "leaving_date": "education_details.data.leaving_date",
    },
    "characteristics": {
        "year_group": "education_details.data.current_nc_year",
        "fsm": "extended_details.data.free_school_meals",
        "fsm6": "extended_details.data.free_school_meals_6",
        "eal": "extended_details.data.english_as_additional_language",
        "pupil_premium": "extended_details.data.premium_pupil_indicator",
        "looked_after": "extended_details.data.in_lea_care",
        "service_child": "extended_details.data.service_children_indicator",
    },
    "sen_status": {"sen_provision": "extended_details.data.sen_status"},
}
ASSEMBLY: dict[str, dict[str, str]] = {
    "pupils": {
        "mis_id": "mis_id",
        "upn": "upn",
        "forename": "legal_first_name|first_name",
        "surname": "legal_last_name|last_name",
        "date_of_birth": "dob",
        "sex": "demographics.gender",
        "ethnicity": "demographics.ethnicity_code",
        "first_language": "languages.first_language_code",
        "entry_date": "start_date",
        "leaving_date": "end_date",
    },
    "characteristics": {
        "year_group": "year_code",
        "fsm": "demographics.is_fsm",
        "fsm6": "demographics.is_fsm6",
        "eal": "demographics.is_eal",
        "pupil_premium": "demographics.is_pp",
        "looked_after": "demographics.in_care",
        "service_child": "demographics.service_child",
    },
    "sen_status": {"sen_provision": "demographics.sen_category"},
}


def _at(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path; ``a|b``: the first of them that is there."""
    for choice in path.split("|"):
        value: Any = item
        for part in choice.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    """A JSON value as the text a spreadsheet cell would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Mapping) and "date" in value:  # Wonde's date object
        return _text(value["date"])
    if isinstance(value, list | Mapping):
        return None
    text = str(value).strip()
    return text or None


def _value(column: str, raw: Any) -> str | None:
    text = standard_value(column, _text(raw))
    if column == "leaving_date" and text == NO_END:
        return None
    return text


class AggregatorJsonReader:
    """A page of Wonde's or Assembly's students, saved as JSON."""

    name = "aggregator-json"

    def __init__(
        self,
        *,
        school: str | None = None,
        file_date: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.school = school
        self.file_date = file_date
        self.max_bytes = max_bytes

    def recognises(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".json" and b'"data"' in head

    def read(self, path: Path) -> ReadResult:
        document = self._load(path)
        system, fields = _system(path.name, document)
        if not self.school:
            raise SourceError(
                path.name,
                f"a {system} students file does not say which school it is (its ids are "
                f"{system}'s, not URNs): tell the importer with --school URN",
            )
        warnings = [f"read as {system} students (JSON)"]
        if _has_next_page(document):
            warnings.append(
                f"this is one page of {system}'s students and the API has more: save every "
                "page (follow its next link) and import them all"
            )
        file_date = self.file_date or date.today().isoformat()
        if not self.file_date:
            warnings.append(
                f"no export date: dated today ({file_date}); give the date the file was "
                "saved with --export-date (e.g. 2026-12-01) when importing it"
            )
        items = [s for s in document["data"] if isinstance(s, Mapping)]
        if fields is SUMMARY_FIELDS:
            warnings[0] = "read as Assembly attendance summaries (JSON)"
            records = list(self._summaries(items))
        else:
            records = list(self._records(items, fields, file_date))
        return ReadResult(path.name, f"{self.name}-{system.lower()}", records, warnings=warnings)

    def _load(self, path: Path) -> Any:
        try:
            if path.stat().st_size > self.max_bytes:
                raise SourceError(path.name, f"is over the {self.max_bytes:,}-byte limit")
            return json.loads(path.read_bytes())
        except OSError as err:
            raise SourceError(path.name, f"could not be opened: {err.strerror or err}") from err
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            # The position only: the message around it could quote a pupil's details.
            where = getattr(err, "lineno", None)
            at = f" (line {where})" if where else ""
            raise SourceError(path.name, f"is not valid JSON{at}") from err

    def _records(
        self, students: list[Mapping[str, Any]], fields: dict[str, dict[str, str]], on: str
    ) -> Iterator[SourceRecord]:
        for row, student in enumerate(students, start=1):
            base = {"school_urn": self.school}
            ids = {c: _value(c, _at(student, fields["pupils"][c])) for c in ("upn", "mis_id")}
            pupil = {c: _value(c, _at(student, p)) for c, p in fields["pupils"].items()}
            if fields is ASSEMBLY:
                pupil["aggregator_id"] = _assembly_id(student.get("id"))
            yield SourceRecord("pupils", {**base, **pupil}, row)
            characteristics = {
                c: _value(c, _at(student, p)) for c, p in fields["characteristics"].items()
            }
            yield SourceRecord(
                "characteristics", {**base, **ids, "effective_date": on, **characteristics}, row
            )
            yield from _sen(student, fields, {**base, **ids}, on, row)

    def _summaries(self, summaries: list[Mapping[str, Any]]) -> Iterator[SourceRecord]:
        for row, item in enumerate(summaries, start=1):
            yield SourceRecord(
                "attendance_summary",
                {
                    "school_urn": self.school,
                    "mis_id": _assembly_id(item.get("student_id")),
                    "period_start": _day(item.get("start_date")),
                    "period_end": _day(item.get("end_date")),
                    "possible": _count(item.get("possible_sessions")),
                    # Sessions with a present mark: late arrivals are inside it.
                    "present": _count(item.get("attended_sessions")),
                    "authorised": _count(item.get("authorised_absence_sessions")),
                    "unauthorised": _count(item.get("unauthorised_absence_sessions")),
                    "late": _count(item.get("late_sessions")),
                },
                row,
            )


def _assembly_id(value: Any) -> str | None:
    """Assembly's student id as a pupil's aggregator id: prefixed, so that it can never
    equal a MIS admission number at the same school."""
    text = _text(value)
    return f"assembly:{text}" if text else None


def _day(value: Any) -> str | None:
    """An ISO date-time (``2026-09-03T00:00:00.000Z``) as its date."""
    text = _text(value)
    if text is not None and len(text) >= 10 and _is_iso(text[:10]):
        return text[:10]
    return text


def _count(value: Any) -> str | None:
    """Session counts arrive as floats (``114.0``): a whole one is written as an integer,
    anything else as given, for staging to check."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def _sen(
    student: Mapping[str, Any],
    fields: dict[str, dict[str, str]],
    base: dict[str, str | None],
    on: str,
    row: int,
) -> Iterator[SourceRecord]:
    """The SEN status: its dated history where the system gives one (Assembly), else the
    current status as of the export date, where "no SEN" makes no record; and the ranked
    needs, each with its own start date (Assembly)."""
    needs = [n for n in _at(student, "demographics.sen_needs") or () if isinstance(n, Mapping)]
    # The status names the needs ranked first and second, so it stands on its own as a
    # status record from any other source does; each need is its own record too.
    ranked = {
        _text(n.get("priority")): _value("need_type", n.get("sen_need_type_code")) for n in needs
    }
    base = {**base, "primary_need": ranked.get("1"), "secondary_need": ranked.get("2")}
    history = _at(student, "demographics.sen_category_history")
    entries = [e for e in history if isinstance(e, Mapping)] if isinstance(history, list) else []
    if entries:
        entries.sort(key=lambda e: str(e.get("start_date") or ""))
        for entry in entries:
            provision = _value("sen_provision", entry.get("code"))
            needs_of = base if provision != "N" else {**base, **NO_NEEDS}
            yield SourceRecord(
                "sen_status",
                {
                    **needs_of,
                    "start_date": _value("start_date", entry.get("start_date")),
                    "sen_provision": provision,
                },
                row,
            )
        # The last status ended, with none after it: the pupil has no SEN since.
        ended = _value("end_date", entries[-1].get("end_date"))
        if ended is not None and ended != NO_END and _is_iso(ended):
            after = (date.fromisoformat(ended) + timedelta(days=1)).isoformat()
            yield SourceRecord(
                "sen_status",
                {**base, **NO_NEEDS, "start_date": after, "sen_provision": "N"},
                row,
            )  # fmt: skip
    else:
        provision = _value("sen_provision", _at(student, fields["sen_status"]["sen_provision"]))
        if provision not in (None, "N"):
            yield SourceRecord(
                "sen_status", {**base, "start_date": on, "sen_provision": provision}, row
            )
    ids = {c: base.get(c) for c in ("school_urn", "upn", "mis_id")}
    for need in needs:
        yield SourceRecord(
            "sen_needs",
            {
                **ids,
                "need_type": _value("need_type", need.get("sen_need_type_code")),
                "need_rank": _text(need.get("priority")),
                "start_date": _value("start_date", need.get("start_date")),
                "end_date": _value("end_date", need.get("end_date")),
            },
            row,
        )


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _system(file_name: str, document: Any) -> tuple[str, dict[str, dict[str, str]]]:
    data = document.get("data") if isinstance(document, Mapping) else None
    first = (
        next((s for s in data if isinstance(s, Mapping)), None) if isinstance(data, list) else None
    )
    if first is not None and first.get("object") == "student":
        return "Assembly", ASSEMBLY
    if first is not None and first.get("object") == "attendance_summary":
        return "Assembly", SUMMARY_FIELDS
    if first is not None and ("education_details" in first or "extended_details" in first):
        return "Wonde", WONDE
    raise SourceError(
        file_name,
        "is not a page of students from Wonde (with education_details and extended_details) "
        "or Assembly (objects of type student)",
    )


def _has_next_page(document: Mapping[str, Any]) -> bool:
    return bool(_at(document, "meta.pagination.next") or document.get("next_page"))
