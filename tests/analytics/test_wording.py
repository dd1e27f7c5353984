from __future__ import annotations

import math

import pytest

from empowered.analytics.wording import GLOSSARY, count_phrase, number, percent, percent_range


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.62, "62%"),
        (0.004, "<1%"),
        (0.0, "0%"),
        (0.996, ">99%"),
        (1.0, "100%"),
        (0.125, "12%"),
        (math.nan, "unknown"),
    ],
)
def test_percent(x: float, text: str) -> None:
    assert percent(x) == text


def test_percent_range_uses_an_en_dash_and_never_claims_certainty() -> None:
    assert percent_range(0.45, 0.77) == "likely 45\u201377%"
    assert percent_range(0.75, 0.9951) == "likely 75\u201399%"
    assert percent_range(0.64, 1.0) == "likely 64\u2013100%"
    assert percent_range(0.001, 0.2) == "likely 0\u201320%"
    assert percent_range(math.nan, 0.5) == "range unknown"


def test_count_phrase() -> None:
    assert count_phrase(1, "use") == "1 use"
    assert count_phrase(9, "use") == "9 uses"
    assert count_phrase(0, "use") == "0 uses"
    assert count_phrase(2, "child", "children") == "2 children"
    assert count_phrase(1200, "session") == "1,200 sessions"


def test_number() -> None:
    assert number(2.54) == "2.5"
    assert number(3.0) == "3"
    assert number(1250.04) == "1,250"
    assert number(0.1234, 2) == "0.12"
    assert number(-0.04) == "0"
    assert number(math.nan) == "unknown"
    assert number(math.inf) == "unlimited"


def test_glossary_explains_every_acronym_in_one_sentence() -> None:
    needed = {"SEN", "SENCo", "EHC plan", "NAP", "Tau", "EWMA", "CUSUM", "EEF", "FSM", "PP"}
    needed |= {"EAL", "ABC", "UPN", "URN"}
    assert needed <= GLOSSARY.keys()
    for term, meaning in GLOSSARY.items():
        assert meaning.endswith("."), term
        assert meaning.count(". ") == 0, term
        assert meaning[0].isupper(), term
