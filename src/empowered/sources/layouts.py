"""Reading an export nobody wrote a mapping for, from its headings (``headers.yml``).

Each layout lists, per canonical column, the headings schools' systems give it. For a
file, every layout is fitted to the header: each canonical column takes the first of its
headings the file has, and a layout counts the columns it uses. The layout that uses the
most wins, against the shipped presets too (``registry.choose_reader``); the import report
says which was chosen and lists every column it left unused.

What a fitted layout makes is an ordinary column mapping (``mapping.Mapping``), read by
the same reader as a school's own YAML: the values it reads go through the same words and
dates (``words``, ``dates``) and, like every source, are judged by staging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from empowered.sources.canonical import ENTITIES
from empowered.sources.mapping import (
    FILE_DATE,
    SPECIALS,
    MappedTableReader,
    Mapping,
    load_mapping,
)
from empowered.sources.records import ReadResult, SourceRecord
from empowered.sources.tabular import normalise_header
from empowered.sources.words import known_codes


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    needs: tuple[tuple[str, ...], ...]  # every group needs one of its columns in the file
    not_with: frozenset[str]  # normalised headings that mean the file is another shape
    school_urn: tuple[str, ...]  # headings that carry the URN
    pupil: dict[str, tuple[str, ...]]  # upn, mis_id -> headings: used by every record
    entities: dict[str, dict[str, str | tuple[str, ...]]]  # entity -> column -> headings


@cache
def _document() -> dict[str, Any]:
    text = resources.files("empowered.sources").joinpath("headers.yml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@cache
def identity_headings() -> frozenset[str]:
    """Normalised headings that identify a pupil: the ones listed as such, and every
    heading any layout reads a name, date of birth, UPN or MIS id from."""
    listed = {normalise_header(str(h)) for h in _document().get("identity", ())}
    for layout in load_layouts():
        listed |= {normalise_header(h) for hs in layout.pupil.values() for h in hs}
        for columns in layout.entities.values():
            for column in ("forename", "surname", "date_of_birth"):
                headings = columns.get(column)
                if isinstance(headings, tuple):
                    listed |= {normalise_header(h) for h in headings}
    return frozenset(listed)


@cache
def load_layouts() -> tuple[Layout, ...]:
    document = _document()
    layouts = []
    for name, spec in document["layouts"].items():
        entities = {
            entity: {
                column: headings if headings in SPECIALS else tuple(map(str, headings))
                for column, headings in columns.items()
            }
            for entity, columns in spec["entities"].items()
        }

        for entity, columns in entities.items():
            unknown = set(columns) - set(ENTITIES[entity].raw_columns)
            if unknown:  # a typing slip in headers.yml must not pass silently
                raise ValueError(f"headers.yml {name}.{entity}: no column {sorted(unknown)}")
        layouts.append(
            Layout(
                name,
                str(spec["description"]),
                tuple(tuple(group) for group in spec["needs"]),
                frozenset(normalise_header(str(h)) for h in spec.get("not_with", ())),
                tuple(map(str, spec.get("school_urn", ()))),
                {c: tuple(map(str, h)) for c, h in (spec.get("pupil") or {}).items()},
                entities,
            )
        )
    return tuple(layouts)


def layout_headings() -> set[str]:
    """Every heading any layout knows, normalised: what to look for to find a header row
    below an export's title lines."""
    known: set[str] = set()
    for layout in load_layouts():
        groups: list[tuple[str, ...]] = [*layout.pupil.values(), layout.school_urn]
        groups += [
            h
            for columns in layout.entities.values()
            for h in columns.values()
            if isinstance(h, tuple)
        ]
        known |= {normalise_header(h) for hs in groups for h in hs}
    return known


@dataclass(frozen=True)
class Fitted:
    layout: Layout
    mapping: Mapping
    used: int  # columns of the file the layout reads
    columns: int  # columns of the file (with a heading)
    left_out: tuple[str, ...] = ()  # columns that identify a pupil, not read and not kept


def fit(layout: Layout, header: Sequence[str]) -> Fitted | None:
    """``layout`` as a mapping for a file with ``header``; None when it does not fit."""
    index: dict[str, str] = {}
    for heading in header:
        key = normalise_header(heading)
        if key:
            index.setdefault(key, heading)
    if layout.not_with & set(index):
        return None
    taken: set[str] = set()

    def find(headings: Sequence[str]) -> str | None:
        for heading in headings:
            if heading in SPECIALS:  # no column: the value the file's title lines give
                return heading
            key = normalise_header(heading)
            if key in index and key not in taken:
                taken.add(key)
                return index[key]
        return None

    school = find(layout.school_urn)
    # One row names one pupil: every record it makes names them by the same columns.
    pupil = {c: found for c, headings in layout.pupil.items() if (found := find(headings))}
    entities: dict[str, dict[str, str]] = {}
    for entity, columns in layout.entities.items():
        chosen = {c: v for c, v in pupil.items() if c in ENTITIES[entity].raw_columns}
        for column, headings in columns.items():
            found = headings if isinstance(headings, str) else find(headings)
            if found is not None:
                chosen[column] = found
        required = [c for c in ENTITIES[entity].required if c != "school_urn"]
        own = {c: v for c, v in chosen.items() if c not in pupil and v not in SPECIALS}
        if not own or any(c not in chosen for c in required):
            # The file does not carry this entity: give back the headings it took.
            taken -= {normalise_header(v) for v in own.values()}
            continue
        entities[entity] = chosen
    found_columns = {c for columns in entities.values() for c in columns}
    if not entities or not all(found_columns & set(group) for group in layout.needs):
        return None
    # Columns that identify a pupil and that this layout does not read are left out of
    # raw, where a file's other unused columns are kept (in clear).
    left_out = [index[key] for key in index if key not in taken and key in identity_headings()]
    document = {
        "name": layout.name,
        "description": layout.description,
        "school_urn": f"column:{school}" if school else "ask",
        "entities": entities,
        "ignore": left_out,
    }
    mapping = load_mapping(yaml.safe_dump(document, allow_unicode=True), origin="headers.yml")
    used = len(taken)
    return Fitted(layout, mapping, used, len(index), tuple(left_out))


def best_fit(header: Sequence[str]) -> Fitted | None:
    """The layout that reads the most of the file's columns (the first listed on a tie)."""
    fits = [f for layout in load_layouts() if (f := fit(layout, header)) is not None]
    return max(fits, key=lambda f: f.used, default=None)


class LayoutReader(MappedTableReader):
    """A file read through a fitted layout; says in the report which, and how well."""

    def __init__(self, fitted: Fitted, **kwargs: Any) -> None:
        super().__init__(fitted.mapping, **kwargs)
        self.fitted = fitted

    def read(self, path: Path) -> ReadResult:
        result = super().read(path)
        fitted = self.fitted
        description = fitted.layout.description
        article = "an" if description[0] in "aeiou" else "a"
        chosen = (
            f"read as {article} {description}, from its headings: "
            f"{fitted.used} of its {fitted.columns} columns used"
        )
        records = _one_status_per_register_entry(list(result.records))
        kept, undated_none = _without_undated_no_sen(fitted.mapping, records)
        warnings = [chosen, *result.warnings]
        if fitted.left_out:
            warnings.append(
                "not used and not kept, as they identify a pupil: " + ", ".join(fitted.left_out)
            )
        if undated_none:
            warnings.append(
                f"{undated_none} rows say no SEN (or leave it empty) without a date: no SEN "
                "record was made for them (a SEN register with dates gives the history)"
            )
        result.records = kept
        result.warnings = warnings
        return result


def settle_records(mapping: Mapping, records: list[SourceRecord]) -> tuple[list[SourceRecord], int]:
    """A register's repeated status as one record, and a list's undated "No SEN" rows
    dropped (with how many): what a fitted layout does, for a mapping saved from one."""
    return _without_undated_no_sen(mapping, _one_status_per_register_entry(records))


def _one_status_per_register_entry(records: list[SourceRecord]) -> list[SourceRecord]:
    """A SEN register repeats the pupil's status on each of their needs' rows: the status
    is one record (the first row's), which names the primary and secondary needs (ranks 1
    and 2 of those rows) so that it stands on its own, as a status record from any other
    source does. Each need stays a record of its own, with its own row, rank and dates."""
    if not any(r.entity == "sen_needs" for r in records):
        return records
    records = _without_needless_rows(records)
    needs_of_row = {r.source_row: r.values for r in records if r.entity == "sen_needs"}
    entries: dict[tuple[str | None, ...], list[SourceRecord]] = {}
    for r in records:
        if r.entity == "sen_status":
            key = tuple(r.values.get(c) for c in ("upn", "mis_id", "start_date", "sen_provision"))
            entries.setdefault(key, []).append(r)
    out = [r for r in records if r.entity != "sen_status"]
    for rows in entries.values():
        ranked = {
            (needs_of_row.get(r.source_row) or {}).get("need_rank"): (
                needs_of_row.get(r.source_row) or {}
            ).get("need_type")
            for r in rows
        }
        first = rows[0]
        values = dict(first.values)
        # Only needs that are DfE codes: a need row nobody knows is quarantined on its own
        # row, and must not take the pupil's status with it.
        values["primary_need"] = _known_need(ranked.get("1"))
        values["secondary_need"] = _known_need(ranked.get("2"))
        out.append(SourceRecord(first.entity, values, first.source_row, first.extra))
    return out


def _without_needless_rows(records: list[SourceRecord]) -> list[SourceRecord]:
    """A register row saying the pupil has no SEN ("No SEN", a status history's end) with
    the need and rank left empty is a status alone: it makes no need record (which would
    be quarantined for its missing need) and keeps its status record."""
    no_sen = {
        r.source_row
        for r in records
        if r.entity == "sen_status" and r.values.get("sen_provision") == "N"
    }
    return [
        r
        for r in records
        if not (
            r.entity == "sen_needs"
            and r.source_row in no_sen
            and not r.values.get("need_type")
            and not r.values.get("need_rank")
        )
    ]


def _known_need(code: str | None) -> str | None:
    return code if code in known_codes("sen_need") else None


def _without_undated_no_sen(
    mapping: Mapping, records: list[SourceRecord]
) -> tuple[list[SourceRecord], int]:
    """A student list's "No SEN" (or an empty SEN cell) carries no date: it says nothing
    to record (a pupil who never had SEN needs no SEN row), unlike "SEN Support" or an EHC
    plan, which are known from the export date. Dated rows are kept whatever they say."""
    if mapping.entities.get("sen_status", {}).get("start_date") != FILE_DATE:
        return records, 0
    kept = [
        r
        for r in records
        if not (r.entity == "sen_status" and r.values.get("sen_provision") in (None, "N"))
    ]
    return kept, len(records) - len(kept)
