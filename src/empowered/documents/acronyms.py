"""Acronyms in what staff and families read, and where the glossary explains them.

A page or a document may use SEN, EHC or SENCo only if the glossary
(:data:`empowered.analytics.wording.GLOSSARY`) explains it; a document that leaves the
school also carries the explanation itself ("Words used in this document"), since a parent
or a local authority officer cannot open the app's glossary. The staff pages' test and
the documents' tests use the same finder.
"""

from __future__ import annotations

import re
from functools import cache

from empowered.analytics.wording import GLOSSARY

# A word with two or more capitals that are at least half its letters (SEN, SENCo, EHC, KS2)
# and one-letter codes joined by slashes (K/E).
_WORD = re.compile(r"(?<![\w/-])[A-Z][A-Za-z0-9]*(?:/[A-Z][A-Za-z0-9]*)*(?![\w])")
# Not acronyms: the product, times, and the FOLDER or FILE an admin types in a command.
NOT_ACRONYMS = frozenset({"EmpowerED+", "EmpowerED", "AM", "PM", "UTC", "OK", "FOLDER", "FILE"})
# A member of staff known by the initials the school's MIS gives them ("staff member ESG").
_STAFF_CODE = re.compile(r"\bstaff member [A-Z0-9]+\b")
_LETTER_CODES = re.compile(r"[A-Z](/[A-Z])+")


def acronyms(text: str) -> set[str]:
    """Every acronym in ``text``, in the form the glossary names it (EHCs -> EHC)."""
    found: set[str] = set()
    for word in _WORD.findall(_STAFF_CODE.sub("staff member", text)):
        codes = _LETTER_CODES.fullmatch(word) is not None
        for part in [word] if codes else word.split("/"):
            letters = [c for c in part if c.isalpha()]
            upper = sum(c.isupper() for c in letters)
            if upper >= 2 and upper * 2 >= len(letters) and part not in NOT_ACRONYMS:
                found.add(_stem(part))
        if codes:
            found.add(word)
    return found


def _stem(word: str) -> str:
    """EHCs -> EHC, KS2 -> KS: the form the glossary names."""
    word = re.sub(r"\d+$", "", word)
    return word[:-1] if word.endswith("s") and word[:-1].isupper() else word


@cache
def explained() -> frozenset[str]:
    """The acronyms the glossary explains (its terms' own and those it names)."""
    return frozenset(a for term in GLOSSARY for a in acronyms(term)) | frozenset(
        t for t in GLOSSARY if acronyms(t) == {t}
    )


@cache
def _term_of() -> dict[str, str]:
    """Each acronym's glossary term: the shortest term naming it (EHC -> "EHC plan")."""
    out: dict[str, str] = {}
    for term in sorted(GLOSSARY, key=len):
        for a in acronyms(term):
            out.setdefault(a, term)
    return out


def words_used(text: str) -> list[tuple[str, str]]:
    """(term, its one-sentence explanation) for every acronym in ``text`` and in the
    explanations themselves, alphabetically; an acronym the glossary lacks is left out
    (the documents' tests fail on it)."""
    terms = _term_of()
    wanted: set[str] = set()
    todo = acronyms(text)
    while todo:
        a = todo.pop()
        term = terms.get(a)
        if term is None or term in wanted:
            continue
        wanted.add(term)
        todo |= acronyms(GLOSSARY[term]) | acronyms(term)
    return sorted(((t, GLOSSARY[t]) for t in wanted), key=lambda kv: kv[0].lower())
