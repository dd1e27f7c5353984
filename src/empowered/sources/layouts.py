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
from empowered.sources.mapping import FILE_DATE, MappedTableReader, Mapping, load_mapping
from empowered.sources.records import ReadResult, SourceRecord
from empowered.sources.tabular import normalise_header


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    needs: tuple[tuple[str, ...], ...]  # every group needs one of its columns in the file
    not_with: frozenset[str]  # normalised headings that mean the file is another shape
    school_urn: tuple[str, ...]  # headings that carry the URN
    entities: dict[str, dict[str, str | tuple[str, ...]]]  # entity -> column -> headings


@cache
def load_layouts() -> tuple[Layout, ...]:
    text = resources.files("empowered.sources").joinpath("headers.yml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    layouts = []
    for name, spec in document["layouts"].items():
        entities = {
            entity: {
                column: headings if headings == FILE_DATE else tuple(map(str, headings))
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
                entities,
            )
        )
    return tuple(layouts)


def layout_headings() -> set[str]:
    """Every heading any layout knows, normalised: what to look for to find a header row
    below an export's title lines."""
    return {
        normalise_header(heading)
        for layout in load_layouts()
        for columns in layout.entities.values()
        for headings in columns.values()
        if headings != FILE_DATE
        for heading in headings
    }


@dataclass(frozen=True)
class Fitted:
    layout: Layout
    mapping: Mapping
    used: int  # columns of the file the layout reads
    columns: int  # columns of the file (with a heading)


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
            key = normalise_header(heading)
            if key in index and key not in taken:
                taken.add(key)
                return index[key]
        return None

    school = find(layout.school_urn)
    entities: dict[str, dict[str, str]] = {}
    for entity, columns in layout.entities.items():
        chosen: dict[str, str] = {}
        for column, headings in columns.items():
            found = FILE_DATE if headings == FILE_DATE else find(headings)
            if found is not None:
                chosen[column] = found
        required = [c for c in ENTITIES[entity].required if c != "school_urn"]
        if all(v == FILE_DATE for v in chosen.values()) or any(c not in chosen for c in required):
            # The file does not carry this entity: give back the headings it took.
            taken -= {normalise_header(v) for v in chosen.values() if v != FILE_DATE}
            continue
        entities[entity] = chosen
    # One row of a student list is one pupil: every record it makes names the pupil by
    # the same UPN and MIS id as the pupil's own record.
    pupil = {c: v for c, v in entities.get("pupils", {}).items() if c in ("upn", "mis_id")}
    for entity, chosen in entities.items():
        if ENTITIES[entity].pupil_linked:
            for column, heading in pupil.items():
                chosen.setdefault(column, heading)
    found_columns = {c for columns in entities.values() for c in columns}
    if not entities or not all(found_columns & set(group) for group in layout.needs):
        return None
    document = {
        "name": layout.name,
        "description": layout.description,
        "school_urn": f"column:{school}" if school else "ask",
        "entities": entities,
    }
    mapping = load_mapping(yaml.safe_dump(document, allow_unicode=True), origin="headers.yml")
    used = len(taken)
    return Fitted(layout, mapping, used, len(index))


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
        chosen = (
            f"read as a {fitted.layout.description}, from its headings: "
            f"{fitted.used} of its {fitted.columns} columns used"
        )
        records = list(result.records)
        kept, undated_none = _without_undated_no_sen(fitted.mapping, records)
        warnings = [chosen, *result.warnings]
        if undated_none:
            warnings.append(
                f"{undated_none} rows say no SEN (or leave it empty) without a date: no SEN "
                "record was made for them (a SEN register with dates gives the history)"
            )
        result.records = kept
        result.warnings = warnings
        return result


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
