"""A column mapping made from choices: for each heading of a file that nothing reads, what
it holds (the upload page asks; ``saved_mappings`` keeps the result).

The choices are canonical columns in plain words: those a pupil list carries, or, for a
file shaped like a SEN register or an attendance summary (the layout fitted, or the one
its headings look most like), that layout's own columns with the pupil's identifiers.
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
from empowered.sources.layouts import load_layouts
from empowered.sources.mapping import (
    FILE_DATE,
    RANGE_END,
    RANGE_START,
    Mapping,
    MappingError,
    load_mapping,
)
from empowered.sources.tabular import normalise_header

IGNORE = "ignore"
SHARED = ("upn", "mis_id")  # name the pupil on every record the row makes
SCHOOL = "school_urn"


@dataclass(frozen=True)
class Choice:
    value: str  # "upn", "school_urn", or "entity.column"
    label: str
    group: str


_Groups = list[tuple[str, list[tuple[str, str]]]]
_WHO: _Groups = [
    (
        "Who the pupil is",
        [
            ("upn", "UPN (unique pupil number)"),
            ("mis_id", "The pupil's id in the MIS, or their admission number"),
            (SCHOOL, "The school's URN"),
        ],
    )
]


def _made(groups: _Groups) -> tuple[Choice, ...]:
    return tuple(Choice(value, label, group) for group, items in groups for value, label in items)


def _choices() -> tuple[Choice, ...]:
    groups: _Groups = [
        *_WHO,
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
    return _made(groups)


def _register_choices() -> tuple[Choice, ...]:
    """A SEN register: a row per need, with the pupil's SEN status repeated on each."""
    return _made(
        [
            *_WHO,
            (
                "The need on this row",
                [
                    ("sen_needs.need_type", "Type of SEN need"),
                    ("sen_needs.need_rank", "Rank of the need (1 is the main need)"),
                    ("sen_needs.start_date", "Date the need started"),
                    ("sen_needs.end_date", "Date the need ended"),
                ],
            ),
            (
                "The pupil's SEN status",
                [
                    ("sen_status.sen_provision", "SEN status (SEN support, EHC plan or none)"),
                    ("sen_status.start_date", "Date the SEN status started"),
                ],
            ),
        ]
    )


def _attendance_choices() -> tuple[Choice, ...]:
    """An attendance summary: a pupil's sessions, counted over a period."""
    return _made(
        [
            *_WHO,
            (
                "The period counted",
                [
                    ("attendance_summary.period_start", "First day of the period"),
                    ("attendance_summary.period_end", "Last day of the period"),
                ],
            ),
            (
                "Sessions in the period",
                [
                    ("attendance_summary.possible", "Possible sessions"),
                    ("attendance_summary.present", "Sessions present (attended)"),
                    (
                        "attendance_summary.approved_activity",
                        "Sessions of approved educational activity, such as trips",
                    ),
                    ("attendance_summary.authorised", "Authorised absences (sessions)"),
                    ("attendance_summary.unauthorised", "Unauthorised absences (sessions)"),
                    ("attendance_summary.late", "Late sessions"),
                ],
            ),
        ]
    )


CHOICES = _choices()  # a pupil list's, and a file's that looks like nothing in particular
# The layouts whose own columns are offered instead, when a file is shaped like one.
LAYOUT_CHOICES = {
    "sen-register": _register_choices(),
    "attendance-summary": _attendance_choices(),
}
LABELS = {c.value: c.label for choices in (CHOICES, *LAYOUT_CHOICES.values()) for c in choices} | {
    IGNORE: "Not needed: leave it out"
}
# What a record of each entity is dated by when no heading says: the export date, or an
# attendance report's "Date range" title line (as the attendance summary layout reads it).
_DATED_BY = {
    "characteristics": {"effective_date": FILE_DATE},
    "sen_status": {"start_date": FILE_DATE},
    "attendance_summary": {"period_start": RANGE_START, "period_end": RANGE_END},
}
# Words that, inside a heading no layout knows, say which kind of file it is.
_HINTS = {
    "sen-register": frozenset({"need", "needs", "sen", "rank", "ranking", "priority"}),
    "attendance-summary": frozenset(
        {"session", "sessions", "possible", "present", "attended", "abs", "absence", "absences"}
        | {"authorised", "unauthorised", "auth", "unauth", "late", "lates", "aea"}
    ),
}
_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Made:
    mapping: Mapping | None  # None when there are problems
    document: dict[str, Any]
    problems: dict[str, str]  # heading (or "name") -> message


def slug(text: str) -> str:
    """A mapping's name from what was typed: "Our SEN list" -> "our-sen-list"."""
    return _NAME.sub("-", text.casefold()).strip("-")[:60]


def choices_for(layout: str | None) -> tuple[Choice, ...]:
    """What a heading of a file shaped like ``layout`` may be chosen to hold."""
    return LAYOUT_CHOICES.get(layout or "", CHOICES)


def likely_layout(header: Sequence[str], base: Mapping | None) -> str | None:
    """The layout whose choices to offer: the one fitted (``base``), else the one the
    headings look most like (headings it knows count double, words such as "need" or
    "sessions" once), so that a register whose need column is headed oddly is still
    asked about as a register; None when nothing points anywhere."""
    if base is not None:
        return base.name
    keys = [normalise_header(h) for h in header]
    scores: dict[str, int] = {}
    for layout in load_layouts():
        if layout.not_with & set(keys):
            continue
        known = {
            normalise_header(h)
            for columns in layout.entities.values()
            for hs in columns.values()
            if isinstance(hs, tuple)
            for h in hs
        }
        hints = _HINTS.get(layout.name, frozenset())
        scores[layout.name] = sum(
            2 * (key in known) + len(hints & set(key.split("_"))) for key in keys
        )
    best = max(scores, key=lambda name: scores[name], default=None)  # first on a tie
    return best if best is not None and scores[best] > 0 else None


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
    layout: str | None = None,
) -> Made:
    """The mapping ``base`` plus, for each heading in ``chosen``, what it was chosen to
    hold (from ``choices_for(layout)``; ``layout`` is ``base``'s when not given).
    Problems: a name missing, a column chosen twice, a record without what it needs;
    otherwise the mapping as ``load_mapping`` reads it."""
    problems: dict[str, str] = {}
    allowed = {c.value for c in choices_for(layout or (base.name if base else None))}
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
        if value not in allowed:
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
        for column, special in _DATED_BY.get(entity, {}).items():
            columns.setdefault(column, special)
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
