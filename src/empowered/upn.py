"""Unique pupil numbers (UPNs): the DfE check letter, validation and construction.

A permanent UPN is 13 characters: a check letter followed by twelve digits, which are the
3-digit local authority code, the 4-digit establishment number of the school that
allocated it, the 2-digit year of allocation and a 3-digit serial number.

The check letter is the weighted sum of the twelve digits (character 2 has weight 2, ...,
character 13 weight 13) modulo 23, mapped onto the 23 letters below (I, O and S are left
out so they cannot be mistaken for 1, 0 and 5).

Temporary UPNs (a letter in the last position) are deliberately not accepted here: they
must be replaced by a permanent UPN before a pupil's records can be joined across systems,
so the warehouse treats them as invalid rather than guessing.
"""

from __future__ import annotations

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_LENGTH = 13


def check_letter(twelve: str) -> str:
    """Return the check letter for the twelve characters after it (all digits)."""
    if len(twelve) != UPN_LENGTH - 1 or not (twelve.isascii() and twelve.isdigit()):
        raise ValueError(f"a UPN body must be 12 digits, got {twelve!r}")
    # enumerate from 2: the first of the twelve is character 2 of the UPN.
    total = sum(int(ch) * weight for weight, ch in enumerate(twelve, start=2))
    return CHECK_LETTERS[total % 23]


def is_valid_upn(upn: str) -> bool:
    """True for a permanent 13-character UPN whose check letter matches its digits."""
    if len(upn) != UPN_LENGTH:
        return False
    body = upn[1:]
    if not (body.isascii() and body.isdigit()):
        return False
    return upn[0] == check_letter(body)


def make_upn(la_code: str, estab: str, year2: int, serial: int) -> str:
    """Build a permanent UPN from its parts (LA code, establishment, year, serial)."""
    if len(la_code) != 3 or not (la_code.isascii() and la_code.isdigit()):
        raise ValueError(f"la_code must be 3 digits, got {la_code!r}")
    if len(estab) != 4 or not (estab.isascii() and estab.isdigit()):
        raise ValueError(f"estab must be 4 digits, got {estab!r}")
    if not 0 <= year2 <= 99:
        raise ValueError(f"year2 must be 0..99, got {year2}")
    if not 0 <= serial <= 999:
        raise ValueError(f"serial must be 0..999, got {serial}")
    body = f"{la_code}{estab}{year2:02d}{serial:03d}"
    return check_letter(body) + body
