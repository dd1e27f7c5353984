"""Microsoft Forms and Google Forms exports of a school's quick observation form.

Every school words its form differently, so the reader is driven by a small YAML form
definition (docs/forms-and-trackers.md) that maps question headers to canonical fields and
answer labels to canonical codes. One response (row) can become up to three records: an
``observations`` record (a mood, engagement or regulation answer), a ``strategy_uses``
record (a strategy chosen) and an ``incidents`` record (an ABC answer), all with the same
``source_row``. Forms name pupils as staff type them, so records carry ``pupil_name`` and
``pupil_group`` (MATCH_COLUMNS) and staging matches them to a pupil, or quarantines them.

Like every reader it does not validate: an answer the definition does not know is passed
through as written, and staging says what is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from empowered.sources.canonical import ENTITIES
from empowered.sources.errors import SourceError
from empowered.sources.records import ReadResult, SkippedRow, SourceRecord
from empowered.sources.tabular import Table, normalise_header, read_header, read_table

# Questions the definition can map, by the record they feed. activity and setting describe
# the moment, so they go on every record the response produces.
SHARED_FIELDS = ("activity", "setting")
SCORE_FIELDS = ("mood", "engagement", "regulation")
OBSERVATION_FIELDS = (*SCORE_FIELDS, "note")
STRATEGY_FIELDS = ("strategy_code", "outcome", "strategy_note")
INCIDENT_FIELDS = ("antecedent", "behaviour", "consequence", "intensity", "duration_minutes")
QUESTION_FIELDS = (*SHARED_FIELDS, *OBSERVATION_FIELDS, *STRATEGY_FIELDS, *INCIDENT_FIELDS)

# Columns the form services add themselves. Those not used for the timestamp, staff or
# response id are kept in ``extra`` without being reported as unknown.
FORM_METADATA = (
    "ID",
    "Start time",
    "Completion time",
    "Last modified time",
    "Email",
    "Name",
    "Timestamp",
    "Email address",
    "Score",
    "Total points",
    "Quiz feedback",
)
# Microsoft Forms' "Name" is the respondent's display name. Staff appear in the warehouse
# only by a school-issued code, so the column is dropped, never landed.
STAFF_NAME_COLUMNS = ("Name",)
# Microsoft Forms writes this for a response given without signing in.
ANONYMOUS = "anonymous"

DEFAULT_FORM_YAML = """\
# The quick observation form the synthetic trust's writer produces
# (synth/school_formats/forms.py). Copy it and change the wording to match a school's form.
name: daily-check-in
# school_urn: "123456"    # or leave it out and give the school when importing
timestamp: ["Completion time", "Timestamp"]   # the first that exists
response_id: ["ID"]                           # Microsoft's response number
staff: ["Email", "Email address"]             # kept as staff_id
staff_email: local_part                       # "CNE@school.example" -> "CNE"
pupil: "Pupil (name and class)"               # "Ada Example (3K)" -> name, group
questions:
  activity:
    header: "What was happening?"
    values:
      "Maths": maths
      "English": english
      "Science": science
      "PE": pe
      "Art": art
      "Music": music
      "Phonics": phonics
      "Reading": reading
      "Topic": topic
      "Break": break
      "Lunch": lunch
      "Transition": transition
      "Assembly": assembly
      "Arrival": arrival
      "Home time": home_time
      "Therapy": therapy
      "Free choice": free_choice
  setting:
    header: "Where?"
    values:
      "Classroom": classroom
      "Hall": hall
      "Playground": playground
      "Dining hall": dining_hall
      "Corridor": corridor
      "Sensory room": sensory_room
      "Library": library
      "Outdoor area": outdoor_area
      "Small group room": small_group_room
      "Minibus": minibus
  mood:
    header: "How is the pupil feeling?"
    values: {"Very low": 1, "Low": 2, "OK": 3, "Good": 4, "Very good": 5}
  engagement:
    header: "How engaged is the pupil?"
    values:
      "Not engaged": 1
      "A little": 2
      "Partly": 3
      "Mostly": 4
      "Fully engaged": 5
  regulation:
    header: "How regulated is the pupil?"
    values:
      "Very dysregulated": 1
      "Dysregulated": 2
      "Wobbly": 3
      "Mostly calm": 4
      "Well regulated": 5
  note:
    header: "Anything else?"
  strategy_code:
    header: "Strategy used (if any)"
    values:
      "Sensory break": sensory_break
      "Movement break": movement_break
      "Now and next board": now_next_board
      "Visual timetable": visual_timetable
      "Calm corner": calm_corner
      "Deep pressure activity": deep_pressure
      "Ear defenders": ear_defenders
      "Choice offered": choice_offered
      "First-then instruction": first_then
      "Breathing exercise": breathing_exercise
      "Fidget tool": fidget_tool
      "Social story": social_story
      "Adult check-in": adult_check_in
      "Countdown timer": countdown_timer
      "Quiet work space": quiet_work_space
  outcome:
    header: "Did it help?"
    values: {"Yes": helped, "A bit": partly, "No": not_helped}
  strategy_note:
    header: "How did the strategy go?"
  antecedent:
    header: "What happened just before?"
    values:
      "Transition": transition
      "Demand placed": demand_placed
      "Denied an item": denied_item
      "Unstructured time": unstructured_time
      "Noise": noise
      "Conflict with a peer": peer_conflict
      "Change of routine": change_of_routine
      "Waiting": waiting
  behaviour:
    header: "What did the pupil do?"
    values:
      "Verbal outburst": verbal_outburst
      "Left the area": leaving_area
      "Physical aggression": physical_aggression
      "Refusal": refusal
      "Self-injury": self_injury
      "Damaged property": property_damage
      "Shutdown": shutdown
  consequence:
    header: "What happened next?"
    values:
      "Calm space offered": calm_space_offered
      "Adult support": adult_support
      "Planned ignoring": planned_ignoring
      "Removed from activity": removed_from_activity
      "Restorative conversation": restorative_conversation
  intensity:
    header: "How intense was it (1 = mild, 5 = severe)?"
  duration_minutes:
    header: "How long did it last (minutes)?"
"""

_TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "school_urn",
        "timestamp",
        "response_id",
        "staff",
        "staff_email",
        "pupil",
        "pupil_group",
        "pupil_dob",
        "mis_id",
        "questions",
    }
)
_QUESTION_KEYS = frozenset({"header", "values", "separator"})
_STAFF_EMAIL = ("as_written", "local_part")


def answer_key(text: str) -> str:
    """How answers are compared with a definition's labels: case and spacing ignored."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Question:
    """One question of the form and how its answers become canonical text."""

    target: str  # canonical field it fills (QUESTION_FIELDS)
    headers: tuple[str, ...]  # the question as it appears in the export; the first found
    choices: tuple[tuple[str, str], ...] = ()  # (answer label, canonical text), in order
    separator: str | None = None  # strategy_code only: several choices in one answer
    _lookup: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for label, code in self.choices:
            self._lookup.setdefault(answer_key(label), code)

    def translate(self, answer: str) -> str:
        """The canonical text for an answer; an answer the definition does not know is
        passed through as written so staging can say what is wrong with it."""
        return self._lookup.get(answer_key(answer), answer)

    def label_for(self, code: str) -> str:
        """The first label that means ``code`` (used by the synthetic writer)."""
        for label, value in self.choices:
            if value == code:
                return label
        return code


@dataclass(frozen=True)
class FormDefinition:
    name: str
    pupil: tuple[str, ...]
    questions: Mapping[str, Question]
    school_urn: str | None = None
    timestamp: tuple[str, ...] = ("Completion time", "Timestamp")
    response_id: tuple[str, ...] = ("ID",)
    staff: tuple[str, ...] = ("Email", "Email address")
    staff_email: str = "as_written"
    pupil_group: tuple[str, ...] = ()
    pupil_dob: tuple[str, ...] = ()
    mis_id: tuple[str, ...] = ()


def _headers(value: Any, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    raise SourceError(source, f"{where} must be a column header or a list of headers")


def _scalar_text(value: Any, where: str, source: str) -> str:
    # YAML 1.1 reads unquoted yes/no/on/off as booleans: "Yes" would silently become True.
    if isinstance(value, bool) or value is None:
        raise SourceError(
            source, f"{where}: {value!r} is not text; put answer labels and codes in quotes"
        )
    if isinstance(value, str | int | float):
        return str(value)
    raise SourceError(source, f"{where}: {value!r} is not text or a number")


def parse_form_definition(text: str, *, source: str = "form definition") -> FormDefinition:
    """Parse a YAML form definition; raise SourceError naming what is wrong with it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SourceError(source, f"is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise SourceError(source, "must be a YAML mapping (name, pupil, questions, ...)")
    unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if unknown:
        raise SourceError(source, f"unknown setting(s): {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourceError(source, "name is missing (it keeps response ids apart between forms)")
    if "pupil" not in data:
        raise SourceError(source, "pupil (the question naming the pupil) is missing")
    urn = data.get("school_urn")
    school_urn = None if urn is None else _scalar_text(urn, "school_urn", source).strip()
    staff_email = data.get("staff_email", "as_written")
    if staff_email not in _STAFF_EMAIL:
        raise SourceError(source, f"staff_email must be one of: {', '.join(_STAFF_EMAIL)}")

    raw_questions = data.get("questions") or {}
    if not isinstance(raw_questions, dict):
        raise SourceError(source, "questions must be a mapping of field to question")
    questions: dict[str, Question] = {}
    for key, spec in raw_questions.items():
        fld = str(key)
        if fld not in QUESTION_FIELDS:
            raise SourceError(
                source,
                f"questions: {fld!r} is not a field a form can fill ({', '.join(QUESTION_FIELDS)})",
            )
        if isinstance(spec, str | list):
            spec = {"header": spec}
        if not isinstance(spec, dict):
            raise SourceError(source, f"questions.{fld} must be a header or a mapping")
        bad = sorted(str(k) for k in spec if k not in _QUESTION_KEYS)
        if bad:
            raise SourceError(source, f"questions.{fld}: unknown setting(s): {', '.join(bad)}")
        values = spec.get("values") or {}
        if not isinstance(values, dict):
            raise SourceError(source, f"questions.{fld}.values must map answers to codes")
        choices = tuple(
            (
                _scalar_text(label, f"questions.{fld}.values", source),
                _scalar_text(code, f"questions.{fld}.values", source),
            )
            for label, code in values.items()
        )
        separator = spec.get("separator")
        if separator is not None and (fld != "strategy_code" or not isinstance(separator, str)):
            raise SourceError(
                source, f"questions.{fld}.separator: only strategy_code takes a separator text"
            )
        questions[fld] = Question(
            fld,
            _headers(spec.get("header"), f"questions.{fld}.header", source),
            choices,
            separator or None,
        )

    def optional(key: str) -> tuple[str, ...]:
        return () if data.get(key) is None else _headers(data[key], key, source)

    return FormDefinition(
        name=name.strip(),
        pupil=_headers(data["pupil"], "pupil", source),
        questions=questions,
        school_urn=school_urn or None,
        timestamp=optional("timestamp") or FormDefinition.timestamp,
        response_id=optional("response_id") or FormDefinition.response_id,
        staff=optional("staff") or FormDefinition.staff,
        staff_email=staff_email,
        pupil_group=optional("pupil_group"),
        pupil_dob=optional("pupil_dob"),
        mis_id=optional("mis_id"),
    )


def load_form_definition(path: Path) -> FormDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(path.name, f"could not be read: {err}") from err
    return parse_form_definition(text, source=path.name)


DEFAULT_FORM = parse_form_definition(DEFAULT_FORM_YAML, source="default form definition")

# "23/11/2026 10:15:32", "23/11/2026 10:15", "2026-11-23T10:15:32.123", "2026-11-23 10:15",
# optionally with AM/PM. The date part is kept exactly as written (staging reads
# DD/MM/YYYY and YYYY-MM-DD); only the time is rewritten, to the format's HH:MM.
_TIMESTAMP = re.compile(
    r"^\s*(?P<date>\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[ T,]+(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)


def split_timestamp(text: str | None) -> tuple[str | None, str | None]:
    """(date as written, HH:MM) from a form timestamp. Text that is not a timestamp is
    returned whole as the date so staging reports it, rather than being dropped."""
    if text is None or not text.strip():
        return None, None
    found = _TIMESTAMP.match(text)
    if found is None:
        return text.strip(), None
    if found["h"] is None:
        return found["date"], None
    hour, minute = int(found["h"]), found["m"]
    ampm = (found["ampm"] or "").upper()
    if ampm and not 1 <= hour <= 12:
        return found["date"], f"{found['h']}:{minute} {ampm}"  # as written: staging rejects
    if ampm == "PM" and hour != 12:
        hour += 12
    elif ampm == "AM" and hour == 12:
        hour = 0
    return found["date"], f"{hour:02d}:{minute}"


_PUPIL = re.compile(r"^(?P<name>.*?)\s*\((?P<group>[^()]*)\)\s*$", re.DOTALL)


def split_pupil(text: str | None) -> tuple[str | None, str | None]:
    """("Ada Example", "3K") from "Ada Example (3K)"; a name without brackets has no group."""
    if text is None or not text.strip():
        return None, None
    found = _PUPIL.match(text.strip())
    if found is None:
        return " ".join(text.split()), None
    name = " ".join(found["name"].split()) or None
    group = found["group"].strip() or None
    return name, group


def stable_id(prefix: str, *parts: str) -> str:
    """An id that depends only on its parts, so re-exporting the same responses gives the
    same ids and a re-import supersedes rather than duplicates. Hashed because the parts
    can include a pupil's name, which must not travel with the id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"


def _empty_values(entity: str) -> dict[str, str | None]:
    return dict.fromkeys(ENTITIES[entity].raw_columns)


@dataclass
class _Columns:
    """Where each part of the definition is in one file (column indexes)."""

    timestamp: int | None
    response_id: int | None
    staff: list[int]
    pupil: int | None
    pupil_group: int | None
    pupil_dob: int | None
    mis_id: int | None
    questions: dict[str, int]
    extra: dict[int, str]  # kept in extra: unknown and unused metadata columns
    unknown: list[str]
    dropped: list[str]
    missing_questions: list[str]


def _locate(header: Sequence[str], definition: FormDefinition) -> tuple[_Columns, list[str]]:
    warnings: list[str] = []
    index: dict[str, int] = {}
    repeated: dict[int, str] = {}
    for i, name in enumerate(header):
        key = normalise_header(name)
        if not key:
            continue
        if key in index:
            # Google Forms exports two questions with the same wording under the same
            # header: the later one is kept in extra under its position, not lost.
            repeated[i] = f"{name} (column {i + 1})"
            warnings.append(
                f"column {name!r} appears more than once; column {i + 1} is kept, not mapped"
            )
            continue
        index[key] = i

    def first(names: Sequence[str]) -> int | None:
        for n in names:
            i = index.get(normalise_header(n))
            if i is not None:
                return i
        return None

    used: set[int] = set()

    def take(names: Sequence[str]) -> int | None:
        i = first(names)
        if i is not None:
            used.add(i)
        return i

    staff = [j for n in definition.staff if (j := index.get(normalise_header(n))) is not None]
    used.update(staff)
    columns = _Columns(
        timestamp=take(definition.timestamp),
        response_id=take(definition.response_id),
        staff=staff,
        pupil=take(definition.pupil),
        pupil_group=take(definition.pupil_group),
        pupil_dob=take(definition.pupil_dob),
        mis_id=take(definition.mis_id),
        questions={},
        extra={},
        unknown=[],
        dropped=[],
        missing_questions=[],
    )
    for fld, question in definition.questions.items():
        where = take(question.headers)
        if where is None:
            columns.missing_questions.append(question.headers[0])
        else:
            columns.questions[fld] = where
    metadata = {normalise_header(n) for n in FORM_METADATA}
    staff_names = {normalise_header(n) for n in STAFF_NAME_COLUMNS}
    for key, i in index.items():
        if i in used:
            continue
        if key in staff_names:
            columns.dropped.append(header[i])
            continue
        columns.extra[i] = header[i]
        if key not in metadata:
            columns.unknown.append(header[i])
    columns.extra.update(repeated)
    columns.unknown.extend(repeated.values())
    return columns, warnings


def _cell(cells: Sequence[str | None], i: int | None) -> str | None:
    if i is None or i >= len(cells):
        return None
    value = cells[i]
    if value is None or not value.strip():
        return None
    return value.strip()


class FormsReader:
    """A Microsoft Forms or Google Forms export (CSV or XLSX) read with a form definition."""

    name = "forms"

    def __init__(
        self,
        definition: FormDefinition = DEFAULT_FORM,
        *,
        school: str | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.definition = definition
        # The school URN given to the importer (--school) wins over the definition's: one
        # definition can serve every school of a trust that shares a form.
        self.school_urn = school or definition.school_urn
        self.max_bytes = max_bytes

    def _expected(self) -> list[str]:
        # Every header the definition names: tabular picks the header row by them.
        d = self.definition
        named = [*d.timestamp, *d.response_id, *d.staff, *d.pupil, *d.pupil_group]
        named += [*d.pupil_dob, *d.mis_id, *FORM_METADATA]
        return named + [h for q in d.questions.values() for h in q.headers]

    def _read_table(self, path: Path) -> Table:
        expected = self._expected()
        if self.max_bytes is None:
            return read_table(path, expected=expected)
        return read_table(path, max_bytes=self.max_bytes, expected=expected)

    def recognises(self, path: Path, head: bytes) -> bool:
        stamps = {normalise_header(n) for n in ("Completion time", "Timestamp")}
        stamps.update(normalise_header(n) for n in self.definition.timestamp)
        pupils = {normalise_header(n) for n in self.definition.pupil}
        try:
            header = read_header(path, head=head, expected=[*stamps, *pupils])
        except (SourceError, OSError, ValueError):
            # Guessing must never stop an import: a file that cannot be read is not ours.
            return False
        names = {normalise_header(h) for h in header if h}
        return bool(names & stamps) and bool(names & pupils)

    def read(self, path: Path) -> ReadResult:
        table = self._read_table(path)
        columns, warnings = _locate(table.header, self.definition)
        if columns.timestamp is None:
            raise SourceError(
                path.name,
                "no timestamp column (looked for "
                + ", ".join(repr(h) for h in self.definition.timestamp)
                + ")",
                column=self.definition.timestamp[0],
            )
        if columns.pupil is None:
            raise SourceError(
                path.name,
                f"required column missing: the pupil question {self.definition.pupil[0]!r}",
                column=self.definition.pupil[0],
            )
        for name in columns.dropped:
            warnings.append(
                f"column {name!r} (the respondent's name) is not kept: staff appear only by code"
            )
        for header in columns.missing_questions:
            warnings.append(f"question {header!r} of the form definition is not in this file")
        if self.school_urn is None:
            warnings.append("no school given (school_urn): every row will be quarantined")

        result = ReadResult(
            file_name=path.name,
            source=self.name,
            records=[],
            unknown_columns=list(columns.unknown),
            skipped=list(table.skipped),
            warnings=[*table.warnings, *warnings],
        )
        records: list[SourceRecord] = []
        for row_number, cells in table.rows:
            made = self._response(row_number, cells, columns)
            if made:
                records.extend(made)
            else:
                result.skipped.append(SkippedRow(row_number, "no answers to record"))
        result.records = records
        result.skipped.sort(key=lambda skipped: skipped.source_row)
        return result

    def _response(
        self, row: int, cells: Sequence[str | None], columns: _Columns
    ) -> list[SourceRecord]:
        d = self.definition
        stamp = _cell(cells, columns.timestamp)
        on, at = split_timestamp(stamp)
        staff = next((v for i in columns.staff if (v := _cell(cells, i)) is not None), None)
        if staff is not None and staff.casefold() == ANONYMOUS:
            staff = None
        if staff is not None and d.staff_email == "local_part" and "@" in staff:
            staff = staff.split("@", 1)[0].strip() or None
        pupil_text = _cell(cells, columns.pupil)
        pupil_name, pupil_group = split_pupil(pupil_text)
        pupil_group = _cell(cells, columns.pupil_group) or pupil_group

        answers: dict[str, str] = {}
        for fld, i in columns.questions.items():
            value = _cell(cells, i)
            if value is not None and fld != "strategy_code":
                answers[fld] = d.questions[fld].translate(value)
            elif value is not None:
                answers[fld] = value  # translated per choice below
        extra = {
            name: (cells[i] if i < len(cells) else None) or "" for i, name in columns.extra.items()
        }

        response_id = _cell(cells, columns.response_id)
        if response_id is not None:
            key: tuple[str, ...] = ("forms", d.name, "id", response_id)
        else:
            key = (
                "forms",
                d.name,
                "response",
                answer_key(stamp or ""),
                answer_key(staff or ""),
                answer_key(pupil_text or ""),
            )

        shared: dict[str, str | None] = {
            "school_urn": self.school_urn,
            "staff_id": staff,
            "activity": answers.get("activity"),
            "setting": answers.get("setting"),
            "mis_id": _cell(cells, columns.mis_id),
            "pupil_name": pupil_name,
            "pupil_dob": _cell(cells, columns.pupil_dob),
            "pupil_group": pupil_group,
        }
        records: list[SourceRecord] = []

        has_strategy = any(f in answers for f in ("strategy_code", "outcome"))
        has_incident = any(f in answers for f in INCIDENT_FIELDS)
        has_scores = any(f in answers for f in SCORE_FIELDS)
        # A response with only a note (or only the context) is still kept as an
        # observation, so staging can report it rather than it vanishing here.
        has_other = bool(answers) and not (has_strategy or has_incident)
        if has_scores or has_other:
            values = _empty_values("observations")
            values.update(shared)
            values.update(
                observation_id=stable_id("FO", *key),
                observed_on=on,
                observed_time=at,
                mood=answers.get("mood"),
                engagement=answers.get("engagement"),
                regulation=answers.get("regulation"),
                note=answers.get("note"),
            )
            records.append(SourceRecord("observations", values, row, dict(extra)))

        if has_strategy:
            question = d.questions.get("strategy_code")
            raw = answers.get("strategy_code")
            choices: list[str | None] = [raw]
            if raw is not None and question is not None:
                parts = raw.split(question.separator) if question.separator else [raw]
                choices = [question.translate(p.strip()) for p in parts if p.strip()] or [None]
            # Without its own note question the strategy use takes the response's note.
            own = "strategy_note" in d.questions
            note = answers.get("strategy_note") if own else answers.get("note")
            for n, code in enumerate(choices, start=1):
                values = _empty_values("strategy_uses")
                values.update(shared)
                use_id = stable_id("FU", *key)
                values.update(
                    use_id=use_id if n == 1 else f"{use_id}-{n}",
                    used_on=on,
                    used_time=at,
                    strategy_code=code,
                    outcome=answers.get("outcome"),
                    note=note,
                )
                records.append(SourceRecord("strategy_uses", values, row, dict(extra)))

        if has_incident:
            values = _empty_values("incidents")
            values.update(shared)
            values.update(
                incident_id=stable_id("FI", *key),
                occurred_on=on,
                occurred_time=at,
                **{f: answers.get(f) for f in INCIDENT_FIELDS},
            )
            records.append(SourceRecord("incidents", values, row, dict(extra)))
        return records
