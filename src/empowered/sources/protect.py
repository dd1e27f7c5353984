"""Protecting identity at landing: ciphertext for raw, blind indexes for staging.

Every direct identifier a source row carries (``canonical.IDENTITY_COLUMNS``) is encrypted
before it reaches raw, so no layer of the warehouse file holds a pupil's name, UPN, MIS id
or date of birth in clear. Staging still has to match and check those values, so landing
also stores, beside the ciphertext, blind indexes (keyed HMAC) of the values normalised
**exactly as staging normalised them when it could read them**, and the few
non-identifying verdicts its rules need:

- ``upn_bidx``: ``upper(trim(upn))``; ``mis_id_bidx``: ``trim(mis_id)``; ``aggregator_id_bidx``:
  ``trim(aggregator_id)``, in the MIS id's index (an aggregator's records name pupils by it);
- a name as a matching key: ``lower`` of forename and surname run together, spaces and
  ``,.'-`` removed (``name_bidx``), or surname first (``name_reversed_bidx``); with the date
  of birth (ISO) for name + date-of-birth matching (``name_dob_bidx``, ``..._reversed_bidx``);
- ``dob_check``: ``missing`` (absent or not a DD/MM/YYYY or YYYY-MM-DD date: rule 10) or
  ``implausible`` (before 1990 or after the day it landed: rule 11);
- for rows naming a pupil without a UPN: ``pupil_name_bidx``, ``pupil_name_dob_bidx`` and
  ``pupil_dob_state`` (``ok`` or ``unparseable``; NULL when no date was given).

Blind indexes are keyed by the pseudonym key (``crypto.BlindIndex``), so they survive an
identity-key rotation. Each distinct value is protected once per import (``Protection``
remembers it): an import names each pupil in every file, an attendance file hundreds of
times, and one encryption per pupil keeps landing within its time budget (the repeated
ciphertext reveals only what the blind index already does: that two rows name the same
pupil).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from empowered.crypto import BlindIndex, IdentityCipher
from empowered.keys import Keys
from empowered.sources.canonical import Entity
from empowered.sources.pseudonyms import pupil_key
from empowered.upn import is_valid_upn

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UK = re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}")
_NAME_PUNCTUATION = re.compile(r"[ ,.'-]")
EARLIEST_BIRTH = date(1990, 1, 1)


def _trim(value: str | None) -> str | None:
    """SQL's ``trim``: spaces only, not every kind of white space."""
    return None if value is None else value.strip(" ")


def _present(value: str | None) -> str | None:
    """SQL's ``nullif(trim(x), '')``."""
    trimmed = _trim(value)
    return trimmed or None


def parse_date(value: str | None) -> date | None:
    """The staging date parse: YYYY-MM-DD or D/M/YYYY, else None (``try_cast``)."""
    text = _trim(value)
    if text is None:
        return None
    try:
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
        if _UK.fullmatch(text):
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
    except ValueError:
        return None
    return None


def name_key(name: str | None) -> str | None:
    """How pupil matching compares names: lower case, no spaces or ``,.'-``."""
    return None if name is None else _NAME_PUNCTUATION.sub("", name.lower())


_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Protection:
    """The cipher and blind index of one set of keys, and the pseudonym key for pupil keys.

    It remembers what it computed: an import names the same pupils in every file, so each
    UPN is encrypted and indexed once per import, not once per file. (A repeated ciphertext
    reveals only what the blind index already does.)"""

    keys: Keys
    _memo: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def cipher(self) -> IdentityCipher:
        return IdentityCipher(self.keys.identity_keys)

    @cached_property
    def index(self) -> BlindIndex:
        return BlindIndex(self.keys.pseudonym_key)

    def _remember(self, kind: str, value: str, make: Callable[[str], str]) -> str:
        found = self._memo.get((kind, value))
        if found is None:
            if len(self._memo) > _CACHE_LIMIT:
                self._memo.clear()
            found = self._memo[(kind, value)] = make(value)
        return found

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._remember("\0encrypt", value, lambda v: str(self.cipher.encrypt(v)))

    def index_of(self, kind: str, value: str | None) -> str | None:
        if value is None:
            return None
        return self._remember(kind, value, lambda v: str(self.index.of(kind, v)))

    def upn_is_valid(self, upn: str) -> bool:
        return self._remember("\0valid", upn, lambda v: "1" if is_valid_upn(v) else "") == "1"

    def pupil_key(self, upn: str) -> str:
        return self._remember("\0pupil_key", upn, lambda v: pupil_key(v, self.keys.pseudonym_key))


@dataclass
class ProtectedColumns:
    """The stored values of one batch's identity and index columns, row by row, and the
    normalised UPNs it named (for ``raw.pupil_pseudonym``)."""

    columns: dict[str, npt.NDArray[Any]]  # object arrays of text or None
    upns: dict[str, str] = field(default_factory=dict)  # blind index -> normalised UPN


def _protect_one(
    protection: Protection,
    identity: tuple[str, ...],
    derived: tuple[str, ...],
    values: Mapping[str, str | None],
    today: date,
) -> dict[str, str | None]:
    index = protection
    out: dict[str, str | None] = {c: protection.encrypt(values.get(c)) for c in identity}
    if "upn_bidx" in derived:
        upn = _present(values.get("upn"))
        out["upn_bidx"] = index.index_of("upn", upn.upper() if upn else None)
    if "mis_id_bidx" in derived:
        out["mis_id_bidx"] = index.index_of("mis_id", _present(values.get("mis_id")))
    if "aggregator_id_bidx" in derived:
        # Indexed as a MIS id: a row that names the pupil by the aggregator's id (in its
        # mis_id) then matches the pupil as one naming the MIS id does.
        out["aggregator_id_bidx"] = index.index_of("mis_id", _present(values.get("aggregator_id")))
    if "name_bidx" in derived:
        forename, surname = _trim(values.get("forename")), _trim(values.get("surname"))
        born = parse_date(values.get("date_of_birth"))
        both = forename is not None and surname is not None
        forwards = name_key(f"{forename}{surname}") if both else None
        backwards = name_key(f"{surname}{forename}") if both else None
        out["name_bidx"] = index.index_of("name", forwards)
        out["name_reversed_bidx"] = index.index_of("name", backwards)
        out["name_dob_bidx"] = _name_dob(index, forwards, born)
        out["name_dob_reversed_bidx"] = _name_dob(index, backwards, born)
        if born is None:
            out["dob_check"] = "missing"
        elif born > today or born < EARLIEST_BIRTH:
            out["dob_check"] = "implausible"
        else:
            out["dob_check"] = None
    if "pupil_name_bidx" in derived:
        name = name_key(_present(values.get("pupil_name")))
        given = _present(values.get("pupil_dob"))
        born = parse_date(given)
        out["pupil_name_bidx"] = index.index_of("name", name)
        out["pupil_name_dob_bidx"] = _name_dob(index, name, born)
        out["pupil_dob_state"] = None if given is None else ("ok" if born else "unparseable")
    return out


def _name_dob(index: Protection, name: str | None, born: date | None) -> str | None:
    if name is None or born is None:
        return None
    return index.index_of("name_dob", f"{name}|{born.isoformat()}")


def protect_rows(
    protection: Protection,
    entity: Entity,
    rows: Iterable[Sequence[str | None]],
    *,
    today: date | None = None,
) -> ProtectedColumns:
    """Protect rows of ``entity.identity_columns`` values (in that order): one output row
    per input row, in the same order, with each distinct input protected once."""
    inputs = entity.identity_columns
    outputs = inputs + entity.index_columns
    if not outputs:
        return ProtectedColumns({})
    day = today or date.today()
    # Number the distinct inputs, protect each once, then gather (NumPy) per column.
    numbered: dict[tuple[str | None, ...], int] = {}
    inverse = [numbered.setdefault(tuple(row), len(numbered)) for row in rows]
    protected = []
    upns: dict[str, str] = {}
    for key in numbered:
        values = dict(zip(inputs, key, strict=True))
        done = _protect_one(protection, inputs, entity.index_columns, values, day)
        protected.append(done)
        upn = _present(values.get("upn"))
        digest = done.get("upn_bidx")
        if upn and digest:
            upns[digest] = upn.upper()
    at = np.array(inverse, dtype=np.int64)
    columns: dict[str, npt.NDArray[Any]] = {}
    for c in outputs:
        distinct = np.array([p[c] for p in protected], dtype=object)
        columns[c] = distinct[at] if len(at) else np.array([], dtype=object)
    return ProtectedColumns(columns, upns)


def pseudonym_rows(
    protection: Protection, upns: Mapping[str, str]
) -> tuple[list[str], list[str], list[bool]]:
    """For ``raw.pupil_pseudonym``: each UPN's blind index, pupil key and check-letter
    verdict, computed here while the UPN is still in clear, sorted by blind index."""
    digests = sorted(upns)
    return (
        digests,
        [protection.pupil_key(upns[d]) for d in digests],
        [protection.upn_is_valid(upns[d]) for d in digests],
    )
