"""A column mapping made from choices: for each heading of a file that nothing reads, what
it holds (the upload page asks; ``saved_mappings`` keeps the result).

The choices are canonical columns of the entities a pupil list carries, in plain words.
What is made is the document a school's mapping file would hold (docs/mis-import.md),
dumped with ``yaml.safe_dump`` and read back by ``load_mapping``, so a saved mapping is
checked exactly as a hand-written one is. Problems are given per heading, for the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as Map
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from empowered.sources.canonical import ENTITIES
from empowered.sources.mapping import FILE_DATE, Mapping, MappingError, load_mapping
from empowered.sources.tabular import normalise_header

IGNORE = "ignore"
SHARED = ("upn", "mis_id")  # name the pupil on every record the row makes
SCHOOL = "school_urn"


@dataclass(frozen=True)
class Choice:
    value: str  # "upn", "school_urn", or "entity.column"
    label: str
    group: str


def _choices() -> tuple[Choice, ...]:
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        (
            "Who the pupil is",
            [
                ("upn", "UPN (unique pupil number)"),
                ("mis_id", "The pupil's id in the MIS, or their admission number"),
                (SCHOOL, "The school's URN"),
            ],
        ),
        (
            "Pupil details",
            [
                ("pupils.forename", "First name"),
                ("pupils.surname", "Last name"),
                ("pupils.date_of_birth", "Date of birth"),
                ("pupils.sex", "Sex or gender"),
                ("pupils.ethnicity", "Ethnicity"),
                ("pupils.first_language", "First language"),
                ("pupils.entry_date", "Date they joined the school"),
                ("pupils.leaving_date", "Date they left the school"),
            ],
        ),
        (
            "Year, group and needs for funding",
            [
                ("characteristics.year_group", "Year group"),
                ("characteristics.reg_group", "Registration, tutor or form group"),
                ("characteristics.fsm", "Free school meals (FSM)"),
                ("characteristics.fsm6", "Free school meals at any time in the last six years"),
                ("characteristics.pupil_premium", "Pupil premium (PP)"),
                ("characteristics.looked_after", "Looked after (in care)"),
                ("characteristics.service_child", "Child of a service family"),
                ("characteristics.eal", "English as an additional language (EAL)"),
                ("characteristics.effective_date", "Date these details took effect"),
            ],
        ),
        (
            "Special educational needs (SEN)",
            [
                ("sen_status.sen_provision", "SEN status (SEN support, EHC plan or none)"),
                ("sen_status.start_date", "Date the SEN status started"),
                ("sen_status.primary_need", "Primary need"),
                ("sen_status.secondary_need", "Secondary need"),
            ],
        ),
    ]
    return tuple(Choice(value, label, group) for group, items in groups for value, label in items)


CHOICES = _choices()
LABELS = {c.value: c.label for c in CHOICES} | {IGNORE: "Not needed: leave it out"}
# What a record of each entity needs besides the school (ENTITIES' required columns that
# a pupil list can give), and what it is dated by when no heading says.
_DATED_BY = {"characteristics": "effective_date", "sen_status": "start_date"}
_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Made:
    mapping: Mapping | None  # None when there are problems
    document: dict[str, Any]
    problems: dict[str, str]  # heading (or "name") -> message


def slug(text: str) -> str:
    """A mapping's name from what was typed: "Our SEN list" -> "our-sen-list"."""
    return _NAME.sub("-", text.casefold()).strip("-")[:60]


def unread_headings(header: Sequence[str], base: Mapping | None) -> list[str]:
    """The headings ``base`` (the layout or nothing recognised) neither reads nor leaves
    out on purpose: the ones to ask about, in the file's order."""
    read = (base.source_columns() | base.ignore) if base else set()
    seen: set[str] = set()
    out = []
    for heading in header:
        key = normalise_header(heading)
        if key and key not in read and key not in seen:
            seen.add(key)
            out.append(heading)
    return out


def make_mapping(
    typed_name: str,
    base: Mapping | None,
    chosen: Map[str, str],
) -> Made:
    """The mapping ``base`` plus, for each heading in ``chosen``, what it was chosen to
    hold. Problems: a name missing, a column chosen twice, a record without what it
    needs; otherwise the mapping as ``load_mapping`` reads it."""
    problems: dict[str, str] = {}
    name = slug(typed_name)
    if not name:
        problems["name"] = "Give the mapping a name, with letters or digits."
    entities: dict[str, dict[str, str]] = {
        entity: dict(columns) for entity, columns in (base.entities if base else {}).items()
    }
    school = _school_of(base)
    ignore = sorted(base.ignore) if base else []
    taken: dict[str, str] = {}  # choice -> heading (or "" when the base reads it)
    for entity, columns in entities.items():
        for column, spec in columns.items():
            value = column if column in SHARED else f"{entity}.{column}"
            if not spec.startswith("@"):
                taken.setdefault(value, spec)
    if school.startswith("column:"):
        taken[SCHOOL] = school.removeprefix("column:")
    for heading, value in chosen.items():
        if value == IGNORE:
            ignore.append(heading)
            continue
        if value not in LABELS:
            problems[heading] = "Choose what this heading holds from the list."
            continue
        if value in taken:
            problems[heading] = (
                f"{LABELS[value]} already comes from the heading \u201c{taken[value]}\u201d: "
                "choose one of them, and \u201cNot needed\u201d for the other."
            )
            continue
        taken[value] = heading
        if value == SCHOOL:
            school = f"column:{heading}"
        elif value in SHARED:
            pass  # added to every entity below
        else:
            entity, column = value.split(".")
            entities.setdefault(entity, {})[column] = heading
    first_of: dict[str, str] = {}  # entity -> the first heading chosen for it
    for heading, value in chosen.items():
        if "." in value:
            first_of.setdefault(value.split(".")[0], heading)
    shared = {c: taken[c] for c in SHARED if c in taken}
    for entity, columns in entities.items():
        for column, heading in shared.items():
            if column in ENTITIES[entity].raw_columns:
                columns.setdefault(column, heading)
        dated_by = _DATED_BY.get(entity)
        if dated_by is not None:
            columns.setdefault(dated_by, FILE_DATE)
    problems.update(_missing(entities, shared, first_of))
    if not entities and not problems:
        problems["name"] = "Choose what at least one heading holds: nothing would be read."
    document: dict[str, Any] = {
        "name": name or "unnamed",
        "description": typed_name.strip()[:120],
        "school_urn": school,
        "entities": entities,
    }
    if base is not None:
        document |= _kept_from(base)
    if ignore:
        document["ignore"] = ignore
    if problems:
        return Made(None, document, problems)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    try:
        mapping = load_mapping(text, origin=f"saved mapping {name}")
    except MappingError as err:  # a check above missed something: say so, not crash
        return Made(None, document, {"name": f"This mapping cannot be used: {err.reason}."})
    return Made(mapping, document, {})


def _school_of(base: Mapping | None) -> str:
    if base is None or base.school_urn.kind == "ask":
        return "ask"
    if base.school_urn.kind == "column":
        return f"column:{base.school_urn.value}"
    return str(base.school_urn.value)


def _kept_from(base: Mapping) -> dict[str, Any]:
    """What else of the layout a saved mapping keeps: its value maps and splits."""
    kept: dict[str, Any] = {}
    if base.values:
        kept["values"] = {c: dict(t) for c, t in base.values.items()}
    if base.splits:
        kept["split"] = {
            f"split{i}": {"column": s.column, "into": list(s.into), "sep": s.sep}
            for i, s in enumerate(base.splits, start=1)
        }
    return kept


def _missing(
    entities: dict[str, dict[str, str]], shared: dict[str, str], first_of: dict[str, str]
) -> dict[str, str]:
    """Records that would lack what they need, said beside a heading that asked for them."""
    problems: dict[str, str] = {}
    for entity, columns in entities.items():
        where = first_of.get(entity)
        if where is None:
            continue  # the layout's own: it already has what it needs
        missing = [c for c in ENTITIES[entity].required if c != SCHOOL and c not in columns]
        if entity != "pupils" and not shared:
            missing.append("upn")
        if missing:
            wanted = " and ".join(
                LABELS.get(c if c in SHARED else f"{entity}.{c}", c) for c in missing
            )
            problems[where] = (
                f"This needs a heading for {wanted} too: choose which heading holds it."
            )
    return problems
