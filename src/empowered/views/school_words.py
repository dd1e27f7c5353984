"""Year groups and needs as staff say them, in the order schools use: the choices of the
register's filters and the year shown beside a found pupil.

Read from the reference seeds (``reference/seeds/year_group.csv``, ``sen_need.csv``,
``broad_area.csv``), so the order (Nursery, Reception, Year 1 ... Year 14) and the words are
the DfE's, not the alphabet's: "R" sorts after "6" as text, Reception comes first here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from empowered.sources.words import to_code

# A broad area of need travels in the register's ``need`` choice with this prefix: the
# area SEMH and the need SEMH share a code.
AREA_PREFIX = "area-"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _seed(name: str) -> list[dict[str, str]]:
    path = resources.files("empowered.reference").joinpath(f"seeds/{name}.csv")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def year_groups() -> tuple[Choice, ...]:
    """Every year group, in school order, with the name staff use ("Reception")."""
    rows = sorted(_seed("year_group"), key=lambda r: int(r["sort_order"]))
    return tuple(Choice(r["code"], r["name"]) for r in rows)


@cache
def _year_order() -> dict[str, int]:
    return {c.value: i for i, c in enumerate(year_groups())}


def year_order(code: str | None) -> int:
    """Where a year group comes in school order (an unknown one last)."""
    return _year_order().get(code or "", len(_year_order()))


def year_label(code: str | None) -> str:
    """ "Reception", "Year 7"; an unknown code as written."""
    if not code:
        return ""
    return next((c.label for c in year_groups() if c.value == code), str(code))


def year_number(code: str | None) -> int | None:
    """The national curriculum year as a number a spreadsheet sorts by: Reception 0,
    Year 3 3, the nursery years -2 and -1 (the DfE's NCyearActual); None if unknown."""
    if not code:
        return None
    if code.isdigit():
        return int(code)
    return {"R": 0, "N2": -1, "N1": -2}.get(code)


def year_code(text: str | None) -> str | None:
    """The year group a person typed or chose ("Reception", "reception", "Year 3", "3",
    "R") as the code the warehouse stores; None for nothing."""
    return to_code("year_group", text)


@cache
def need_choices() -> tuple[tuple[str, tuple[Choice, ...]], ...]:
    """The register's need filter: the four broad areas of need (Code of Practice 6.28),
    then each primary need type in the census order, in words."""
    areas = tuple(Choice(AREA_PREFIX + r["code"], r["name"]) for r in _seed("broad_area"))
    needs = sorted(_seed("sen_need"), key=lambda r: int(r["sort_order"]))
    types = tuple(Choice(r["code"], r["name"]) for r in needs)
    return (("Broad areas of need", areas), ("Primary need", types))


def need_filter(text: str | None) -> tuple[str | None, str | None]:
    """(need code, broad area code) from the need choice or typed text, in any case:
    "area-CI", "asd", "Autistic spectrum disorder"."""
    if not text or not text.strip():
        return None, None
    if text.strip().lower().startswith(AREA_PREFIX):
        area = text.strip()[len(AREA_PREFIX) :].upper()
        return None, area
    return to_code("sen_need", text.strip()), None


def _label(choices: tuple[Choice, ...], code: str) -> str:
    return next((c.label for c in choices if c.value == code), code)


def need_label(code: str) -> str:
    """ "Autistic spectrum disorder" for ASD; an unknown code as written."""
    return _label(need_choices()[1][1], code)


def area_label(code: str) -> str:
    """ "Communication and interaction" for CI; an unknown code as written."""
    return _label(need_choices()[0][1], AREA_PREFIX + code)
