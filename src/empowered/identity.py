"""Which columns identify a pupil, in one place.

Pupil identity (names, UPN, date of birth, MIS id) is kept in staging and in the one
restricted table ``core.pupil_identity``; it must never reach logs, console output or
bookkeeping tables. Anything that shows sample rows to a person passes them through
``withhold_identity`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empowered.crypto import IdentityCipher, is_ciphertext

IDENTITY_COLUMNS = frozenset(
    {
        "upn",
        "forename",
        "surname",
        "date_of_birth",
        "date_of_birth_raw",
        "mis_id",
        # A quarantined value may be a UPN or a date of birth: withhold values wholesale.
        "value",
        "_reject_value",
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
