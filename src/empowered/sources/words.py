"""Words schools' exports use, read as the DfE codes EmpowerED+ stores: "K - SEN Support"
as K, "Social, Emotional and Mental Health" as SEMH, "White - Eastern European" as WOTH,
"Polish" as POL, "Yes", "True", "1" and a tick as Y.

The words are reference data (``reference/words/*.csv``, one file per kind, read once),
so a word a school's system writes that nobody listed yet is a data change, not a code
change. The codes and the names of ``reference/seeds`` are known without being listed.
A value nobody knows is returned as written: staging then quarantines it with the value,
so it is never silently stored as something else.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

# Which kind of word each canonical column holds.
KIND_OF_COLUMN = {
    "sen_provision": "sen_provision",
    "primary_need": "sen_need",
    "need_type": "sen_need",
    "secondary_need": "sen_need",
    "ethnicity": "ethnicity",
    "first_language": "language",
    "fsm": "flag",
    "pupil_premium": "flag",
    "looked_after": "flag",
    "service_child": "flag",
    "eal": "flag",
    "fsm6": "flag",
    "sex": "sex",
    "year_group": "year_group",
    "session": "session",
}
# The seed whose codes (and names) a kind knows without a list.
_SEED = {
    "sen_provision": "sen_provision",
    "sen_need": "sen_need",
    "ethnicity": "ethnicity",
    "year_group": "year_group",
}
_CODE_FIRST = re.compile(r"^\s*([A-Za-z0-9]{1,5})\s+-\s+\S")  # "K - SEN Support"
_YEAR = re.compile(r"^(?:y|yr|year|nc year)\s*(\d{1,2})$")  # "Y7", "Yr 7", "NC Year 7"


def _key(text: str) -> str:
    """Compare words loosely: case, punctuation and runs of spaces do not matter
    ("Speech, language and communication" is "SPEECH LANGUAGE AND COMMUNICATION")."""
    loose = re.sub(r"[^0-9a-z]+", " ", text.casefold()).strip()
    return loose or text.strip()  # a tick has no letters: it is its own key


@cache
def _table(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    seed = _SEED.get(kind)
    if seed:
        with (
            resources.files("empowered.reference")
            .joinpath(f"seeds/{seed}.csv")
            .open(encoding="utf-8") as handle
        ):
            for row in csv.DictReader(handle):
                table[_key(row["code"])] = row["code"]
                table.setdefault(_key(row["name"]), row["code"])
    with (
        resources.files("empowered.reference")
        .joinpath(f"words/{kind}.csv")
        .open(encoding="utf-8") as handle
    ):
        for row in csv.DictReader(handle):
            table[_key(row["word"])] = row["code"]
    return table


def known_codes(kind: str) -> set[str]:
    return set(_table(kind).values())


def to_code(kind: str, text: str | None) -> str | None:
    """The code ``text`` means, or ``text`` as written when nobody knows it."""
    if text is None or not text.strip():
        return None
    table = _table(kind)
    found = table.get(_key(text))
    if found is not None:
        return found
    code_first = _CODE_FIRST.match(text)
    if code_first:
        found = table.get(_key(code_first.group(1)))
        if found is not None and found.casefold() == code_first.group(1).casefold():
            return found
    if kind == "year_group":
        year = _YEAR.match(_key(text))
        if year:
            return str(int(year.group(1)))
    return text


def column_code(column: str, text: str | None) -> str | None:
    """``to_code`` for a canonical column that holds words of a kind; others unchanged."""
    kind = KIND_OF_COLUMN.get(column)
    return to_code(kind, text) if kind else text
