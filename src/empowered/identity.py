"""Pupil identity, in one place: which columns identify a pupil, and the one reader that
decrypts them for a person allowed to see them.

Pupil identity (names, UPN, date of birth, MIS id) is stored only as ciphertext, in raw,
staging and the one restricted table ``core.pupil_identity`` (``empowered.sources.protect``
encrypts it at landing). It must never reach logs, console output or bookkeeping tables.
Anything that shows sample rows to a person passes them through ``withhold_identity``
first. Pages that name pupils decrypt through :class:`IdentityReader`, which is only handed
out for a scope the policy lets see identity (``scope.identified``); sorting and searching
by name therefore happen in Python, after decryption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Protocol

from empowered.crypto import IdentityCipher, is_ciphertext
from empowered.keys import Keys
from empowered.sources.protect import parse_date

IDENTITY_COLUMNS = frozenset(
    {
        "upn",
        "forename",
        "surname",
        "date_of_birth",
        "date_of_birth_raw",
        "mis_id",
        "pupil_name",
        "pupil_dob",
        # A quarantined value may be a UPN or a date of birth: withhold values wholesale.
        "value",
        "_reject_value",
        # A safeguarding concern's words and who was there, a leaver's new school.
        "concern_text",
        "people_present",
        "new_school",
    }
)
WITHHELD = "(withheld)"


def withhold_identity(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: WITHHELD if k.lower() in IDENTITY_COLUMNS else v for k, v in row.items()}


def reveal(cipher: IdentityCipher, value: object) -> object:
    """A stored value as a person reads it: ciphertext (``enc1:...``) decrypted with
    ``cipher``, anything else unchanged. The one decrypting call of the subject access
    export; callers must already have decided that this person may see identity."""
    if isinstance(value, str) and is_ciphertext(value):
        return cipher.decrypt(value)
    return value


class IdentityNotAllowed(PermissionError):
    """Identity was asked for on behalf of a scope that may not see it."""


class _Scope(Protocol):
    @property
    def identified(self) -> bool: ...


def _trim(value: str | None) -> str | None:
    # Landing kept the value as the file gave it; staging used to trim it (spaces only).
    return None if value is None else value.strip(" ")


# Decrypted values a reader keeps: a trust's register names 3,000 pupils (6,000 values)
# and was decrypting them all again for every page view and every download. The server
# process holds them while it runs, as it holds each page it renders; nothing is written.
DECRYPTED_KEPT = 1 << 16


class IdentityReader:
    """Decrypts ``core.pupil_identity``'s columns, normalised as staging used to show them."""

    def __init__(self, keys: Keys) -> None:
        self._cipher = IdentityCipher(keys.identity_keys)
        # Per reader (so per key set): a ciphertext names one value, under one key.
        self._text = lru_cache(maxsize=DECRYPTED_KEPT)(self._decrypt_text)

    def _decrypt_text(self, value: str | None) -> str | None:
        return _trim(self._cipher.decrypt(value))

    def text(self, value: str | None) -> str | None:
        return self._text(value)

    def report(self, sealed: bytes) -> bytes:
        """A stored report's bytes (a visiting professional's PDF, ``contributions``)."""
        return self._cipher.open_file(sealed)

    def upn(self, value: str | None) -> str | None:
        upn = self.text(value)
        return upn.upper() if upn else None

    def date_of_birth(self, value: str | None) -> date | None:
        return parse_date(self._cipher.decrypt(value))

    def name(self, row: Mapping[str, Any]) -> str:
        """ "Forename Surname" from a row's encrypted ``forename`` and ``surname``."""
        parts = (self.text(row.get("forename")), self.text(row.get("surname")))
        return " ".join(p for p in parts if p)

    def names(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Each row's ``pupil_key`` -> name."""
        return {str(r["pupil_key"]): self.name(r) for r in rows}


class ConcernNotAllowed(IdentityNotAllowed):
    """A concern's words were asked for on behalf of someone the policy did not allow."""


def concern_reader(allowed: bool, keys: Keys | None = None) -> IdentityReader:
    """The reader of a safeguarding concern's words and the people present (stored as
    ciphertext like identity), for a caller that asked the policy first
    (``policy.may_read_concern`` or ``may_act_on_concern``) and passes its answer."""
    if not allowed:
        raise ConcernNotAllowed("this person may not read this concern")
    if keys is None:
        from empowered.settings import get_settings

        keys = get_settings().keys()
    return _reader(keys)


@lru_cache(maxsize=4)
def _reader(keys: Keys) -> IdentityReader:
    return IdentityReader(keys)


def identity_reader(scope: _Scope, keys: Keys | None = None) -> IdentityReader:
    """The reader for a scope allowed to see identity (the policy's ``identified``);
    ``keys`` default to the settings' (the key file beside the warehouse)."""
    if not scope.identified:
        raise IdentityNotAllowed("this scope may not see pupils' names")
    if keys is None:
        from empowered.settings import get_settings

        keys = get_settings().keys()
    return _reader(keys)
