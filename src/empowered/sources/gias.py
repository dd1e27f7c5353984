"""One school's details from the DfE's "Get Information About Schools" (GIAS) file.

GIAS publishes every establishment in England as one CSV ("Establishment fields", file
``edubasealldataYYYYMMDD.csv``), in Windows-1252 with one row per establishment and labels
such as ``URN``, ``LA (code)``, ``EstablishmentNumber``, ``EstablishmentName``,
``TypeOfEstablishment (name)``, ``PhaseOfEducation (name)`` and ``Trusts (name)``. Its
columns come and go between releases, so they are found by label, never by position.
A school that has the file can be set up from its URN alone (``empowered school add URN
--from-gias FILE``), with nothing typed that could be mistyped.

The file is read as a stream and reading stops at the school's row: it is about 60 MB.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from empowered.sources.errors import SourceError

URN = "URN"
LA_CODE = "LA (code)"
ESTAB = "EstablishmentNumber"
NAME = "EstablishmentName"
TYPE = "TypeOfEstablishment (name)"
PHASE = "PhaseOfEducation (name)"
STATUS = "EstablishmentStatus (name)"
TRUST = "Trusts (name)"
REQUIRED = (URN, LA_CODE, ESTAB, NAME, PHASE)

# GIAS's phases of education, as EmpowerED+'s school phases. A special school or an
# alternative provision has the phase of the ages it teaches in GIAS ("Not applicable",
# "Secondary", ...): its type decides first, below.
PHASES = {
    "primary": "primary",
    "middle deemed primary": "primary",
    "secondary": "secondary",
    "middle deemed secondary": "secondary",
    "all-through": "all-through",
}
# Words in a type of establishment ("Academy special converter", "Pupil referral unit",
# "Free schools alternative provision") that make its phase.
TYPE_PHASES = (
    ("special", "special"),
    ("alternative provision", "alternative provision"),
    ("pupil referral unit", "alternative provision"),
)


@dataclass(frozen=True)
class GiasSchool:
    urn: str
    la_code: str | None
    estab: str | None
    name: str
    establishment_type: str | None
    phase: str | None  # None when GIAS's phase is not one EmpowerED+ has (a nursery, 16 plus)
    gias_phase: str  # as GIAS writes it, to say what could not be used
    status: str | None  # "Open", "Closed", ...
    trust_name: str | None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    """The file's rows by label: UTF-8 (with or without a byte-order mark) when it is,
    else Windows-1252 as GIAS publishes it."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the 64 KB boundary is still UTF-8.
        encoding = "utf-8-sig" if err.start >= len(head) - 3 else "cp1252"
    with path.open(encoding=encoding, errors="replace", newline="") as text:
        reader = csv.DictReader(text)
        labels = [label.strip() for label in reader.fieldnames or []]
        missing = [label for label in REQUIRED if label not in labels]
        if missing:
            raise SourceError(
                path.name,
                "is not the GIAS establishment file (Get Information About Schools, "
                f"'Establishment fields' download): it has no {', '.join(missing)} column",
                column=missing[0],
            )
        reader.fieldnames = labels
        yield from reader


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _phase(type_name: str | None, gias_phase: str) -> str | None:
    words = (type_name or "").casefold()
    for word, phase in TYPE_PHASES:
        if word in words:
            return phase
    return PHASES.get(gias_phase.strip().casefold())


def find_school(path: Path, urn: str) -> GiasSchool:
    """The row of ``urn`` in the GIAS file at ``path``; SourceError if it is not there."""
    try:
        for row in _rows(path):
            if (row.get(URN) or "").strip() != urn:
                continue
            gias_phase = (row.get(PHASE) or "").strip()
            type_name = _blank(row.get(TYPE))
            estab = _blank(row.get(ESTAB))
            return GiasSchool(
                urn=urn,
                la_code=_blank(row.get(LA_CODE)),
                # An establishment number is four digits; a file that went through a
                # spreadsheet may have lost leading zeros.
                estab=estab.zfill(4) if estab and estab.isdigit() else estab,
                name=(row.get(NAME) or "").strip(),
                establishment_type=type_name,
                phase=_phase(type_name, gias_phase),
                gias_phase=gias_phase,
                status=_blank(row.get(STATUS)),
                trust_name=_blank(row.get(TRUST)),
            )
    except OSError as err:
        raise SourceError(path.name, f"could not be opened: {err.strerror or err}") from err
    except (csv.Error, io.UnsupportedOperation) as err:
        raise SourceError(path.name, f"could not be read as CSV: {err}") from err
    raise SourceError(path.name, f"has no establishment with URN {urn}", column=URN)
