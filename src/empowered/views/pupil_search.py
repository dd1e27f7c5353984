"""Finding a child: the pupils in a user's scope whose name (or UPN) matches what they typed,
and a teacher's or assistant's own class and group lists.

Names are ciphertext at rest and there is no index of parts of names (a blind index only
matches whole values), so a search decrypts the names of the pupils in scope, through
``empowered.identity``, and matches them here: any part of a first or last name, without
case or accents ("zoe" finds Zoë, "obrien" finds O'Brien). The names of one scope on one
build are decrypted and folded once and kept (``_CANDIDATES``), as the identity reader
keeps every value it decrypts: the demo trust's 1,527 pupils are read and decrypted in
about 60 ms the first time and searched in 3-4 ms after that (docs/web-search.md). A
UPN is matched by its blind index (``core.pupil_identity.upn_bidx``), never decrypted, and
only for a scope the policy lets see UPNs. Only pupils in the scope are read at all, so a
pupil outside it is neither listed nor counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from empowered.access.sections import Section
from empowered.crypto import BlindIndex
from empowered.identity import identity_reader
from empowered.keys import Keys
from empowered.views import PupilScope, queries
from empowered.views.cache import Recent, warehouse_key
from empowered.views.school_words import year_label, year_order

# A UPN: a letter and 11 digits then a digit or letter (a temporary UPN ends in a letter).
UPN_SHAPE = re.compile(r"^[A-Za-z]\d{11}[0-9A-Za-z]$")
SHORTEST = 2  # one letter would list half a school
# Letters that do not come apart into a plain letter and an accent.
_PLAIN = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"})
_APOSTROPHES = re.compile(r"['’‘`]")
_SEPARATORS = re.compile(r"[\s\-‐–.,]+")
# Scopes whose candidates are kept, each for the build they were read from.
_CANDIDATES: Recent[tuple[Candidate, ...]] = Recent(32)


def fold(text: str) -> str:
    """A name or a search as compared: no accents, no case, no apostrophes, hyphens and
    runs of spaces as one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_PLAIN))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", plain)).strip()


@dataclass(frozen=True)
class Candidate:
    pupil_key: str
    school_urn: str
    name: str
    folded: str
    surname: str
    forename: str
    upn_bidx: str | None
    school_name: str
    year_group: str | None
    reg_group: str | None
    sen_status: str | None


@dataclass(frozen=True)
class FoundPupil:
    pupil_key: str
    name: str
    year: str
    school_name: str
    sen_status: str | None  # None: the role does not see SEN status
    reg_group: str | None = None  # the class they are registered in: tells two Sams apart


@dataclass(frozen=True)
class SearchResult:
    query: str
    by_upn: bool
    pupils: tuple[FoundPupil, ...]
    hint: str | None = None  # why nothing was searched (too short), in words


def search_pupils(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    text: str,
    keys: Keys,
    upn_allowed: bool,
) -> SearchResult:
    """The pupils in ``scope`` that ``text`` finds: by UPN when it is shaped like one and
    ``upn_allowed`` (the policy's answer), else by any part of a first or last name."""
    query = text.strip()[:100]
    compact = re.sub(r"\s+", "", query)
    if UPN_SHAPE.match(compact) and upn_allowed:
        wanted = BlindIndex(keys.pseudonym_key).of("upn", compact.upper())
        found = [c for c in candidates(con, scope, keys) if c.upn_bidx == wanted]
        return _result(query, True, found, scope)
    words = fold(query).split()
    if len("".join(words)) < SHORTEST:
        hint = "Type at least two letters of a first or last name"
        hint += " or a whole UPN." if upn_allowed else "."
        return SearchResult(query, False, (), hint)
    matched = [c for c in candidates(con, scope, keys) if all(w in c.folded for w in words)]
    matched.sort(key=lambda c: (_rank(c, words), c.surname, c.forename, c.pupil_key))
    return _result(query, False, matched, scope)


def _rank(c: Candidate, words: Sequence[str]) -> int:
    """Names where every word typed starts a part of the name come first."""
    parts = c.folded.split()
    return 0 if all(any(p.startswith(w) for p in parts) for w in words) else 1


def _result(
    query: str, by_upn: bool, found: Sequence[Candidate], scope: PupilScope
) -> SearchResult:
    status = scope.shows(Section.PUPILS_SEN_STATUS)
    return SearchResult(query, by_upn, tuple(_found(c, status) for c in found))


def _found(c: Candidate, status: bool) -> FoundPupil:
    return FoundPupil(
        c.pupil_key,
        c.name,
        year_label(c.year_group) or "Year group not recorded",
        c.school_name,
        c.sen_status if status else None,
        c.reg_group,
    )


def candidates(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, keys: Keys
) -> tuple[Candidate, ...]:
    """Every pupil in ``scope`` with their name decrypted and folded, kept per build."""
    key = (warehouse_key(con), scope.schools, scope.pupils, keys)
    kept = _CANDIDATES.get(key)
    if kept is None:
        rows = queries.rows(con, "pupil_search_candidates", scope=scope)
        kept = _CANDIDATES.put(key, tuple(_candidate(r, scope, keys) for r in rows))
    return kept


def _candidate(r: dict[str, Any], scope: PupilScope, keys: Keys) -> Candidate:
    reader = identity_reader(scope, keys)
    forename, surname = reader.text(r["forename"]) or "", reader.text(r["surname"]) or ""
    name = " ".join(p for p in (forename, surname) if p)
    return Candidate(
        pupil_key=str(r["pupil_key"]),
        school_urn=str(r["school_urn"]),
        name=name,
        folded=fold(name),
        surname=fold(surname),
        forename=fold(forename),
        upn_bidx=r["upn_bidx"],
        school_name=str(r["school_name"] or "School not recorded"),
        year_group=r["year_group"],
        reg_group=r["reg_group"],
        sen_status=_sen_words(r) if r["on_roll"] else "Not on roll",
    )


_SEN_WORDS = {"K": "SEN support", "E": "EHC plan", "N": "No SEN"}


def _sen_words(r: dict[str, Any]) -> str:
    return _SEN_WORDS.get(str(r["sen_provision"]), str(r["sen_provision_name"] or "Not recorded"))


# -- Class and group lists ---------------------------------------------------------------


@dataclass(frozen=True)
class PupilGroup:
    title: str
    pupils: tuple[FoundPupil, ...]


def my_groups(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    keys: Keys,
    school_urn: str | None,
    groups: Sequence[str],
    named: Sequence[str],
) -> tuple[PupilGroup, ...]:
    """A teacher's or assistant's pupils: the members of each of their groups, then the
    pupils named on their account, each list by surname, all within ``scope``."""
    everyone = {c.pupil_key: c for c in candidates(con, scope, keys)}
    status = scope.shows(Section.PUPILS_SEN_STATUS)
    lists: list[PupilGroup] = []
    if groups and school_urn:
        members: dict[str, list[str]] = {}
        for r in queries.rows(
            con, "pupil_group_members", scope=scope, school_urn=school_urn, groups=list(groups)
        ):
            members.setdefault(str(r["group_code"]), []).append(str(r["pupil_key"]))
        for group in sorted(members):
            lists.append(PupilGroup(f"Group {group}", _listed(members[group], everyone, status)))
    if named:
        lists.append(PupilGroup("Pupils assigned to you", _listed(named, everyone, status)))
    return tuple(g for g in lists if g.pupils)


def _listed(
    keys: Sequence[str], everyone: dict[str, Candidate], status: bool
) -> tuple[FoundPupil, ...]:
    found = sorted(
        (everyone[k] for k in set(keys) if k in everyone),
        key=lambda c: (year_order(c.year_group), c.surname, c.forename, c.pupil_key),
    )
    return tuple(_found(c, status) for c in found)
