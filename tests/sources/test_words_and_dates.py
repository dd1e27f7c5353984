"""Words and dates as schools' systems write them, read as the codes and ISO dates staging
stores; a value nobody knows is kept as written so that staging quarantines it."""

from __future__ import annotations

import pytest

from empowered.sources.dates import to_iso
from empowered.sources.mapping import standard_value
from empowered.sources.words import to_code


@pytest.mark.parametrize(
    ("kind", "written", "code"),
    [
        ("sen_provision", "K - SEN Support", "K"),
        ("sen_provision", "SEN Support", "K"),
        ("sen_provision", "E - EHC Plan", "E"),
        ("sen_provision", "EHCP", "E"),
        ("sen_provision", "Statement", "S"),
        ("sen_provision", "No SEN", "N"),
        ("sen_provision", "School Action Plus", "P"),
        ("sen_provision", "k", "K"),
        ("sen_need", "Social, Emotional and Mental Health", "SEMH"),
        ("sen_need", "SEMH - Social, Emotional and Mental Health", "SEMH"),
        ("sen_need", "SpLD - Specific Learning Difficulty", "SPLD"),
        ("sen_need", "Profound & Multiple Learning Difficulty", "PMLD"),
        ("sen_need", "Vision impairment", "VI"),  # the seed's own name
        ("ethnicity", "White - British", "WBRI"),
        ("ethnicity", "White - Eastern European", "WOTH"),  # extended, rolled up
        ("ethnicity", "WEEU", "WOTH"),
        ("ethnicity", "BSOM", "BAFR"),
        ("ethnicity", "Pakistani", "APKN"),
        ("language", "English", "ENG"),
        ("language", "Polish", "POL"),
        ("language", "believed to be English", "ENB"),
        ("flag", "Yes", "Y"),
        ("flag", "TRUE", "Y"),
        ("flag", "1", "Y"),
        ("flag", "\u2713", "Y"),  # a tick
        ("flag", "No", "N"),
        ("flag", "false", "N"),
        ("flag", "0", "N"),
        ("sex", "Female", "F"),
        ("year_group", "Year 7", "7"),
        ("year_group", "Y10", "10"),
        ("year_group", "Reception", "R"),
    ],
)
def test_words_are_read_as_codes(kind: str, written: str, code: str) -> None:
    assert to_code(kind, written) == code


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        ("sen_need", "Dyslexia"),  # a description, not a DfE type of need: for a person
        ("sen_provision", "Monitoring"),
        ("flag", "Maybe"),
        ("ethnicity", "White - Martian"),
        ("sen_need", "XYZ - Something"),  # a code-first form whose code nobody knows
    ],
)
def test_a_word_nobody_knows_is_kept_as_written(kind: str, written: str) -> None:
    assert to_code(kind, written) == written


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("14-Mar-2015", "2015-03-14"),
        ("14 March 2015", "2015-03-14"),
        ("Wednesday 3 September 2025", "2025-09-03"),
        ("1st September 2025", "2025-09-01"),
        ("14-03-2015", "2015-03-14"),  # GIAS
        ("14.03.2015", "2015-03-14"),
        ("14/03/2015", "2015-03-14"),
        ("1/2/2025", "2025-02-01"),
        ("2015-03-14T00:00:00", "2015-03-14"),  # Bromcom and the APIs
        ("2015-03-14T00:00:00.000Z", "2015-03-14"),
        ("01/12/2026 08:14", "2026-12-01"),
        ("42652", "2016-10-09"),  # an Excel serial: a workbook cell not formatted as a date
        ("44445.0", "2021-09-06"),
    ],
)
def test_dates_are_read_as_iso(written: str, iso: str) -> None:
    assert to_iso(written) == iso


@pytest.mark.parametrize(
    "written", ["31/02/2025", "14/03/15", "Mar 14 2015", "soon", "32-Jan-2020", "4265", "426520"]
)
def test_a_date_that_is_not_one_is_kept_as_written(written: str) -> None:
    assert to_iso(written) == written


def test_only_date_columns_are_read_as_dates_and_only_word_columns_as_codes() -> None:
    assert standard_value("date_of_birth", "14-Mar-2015") == "2015-03-14"
    assert standard_value("reg_group", "14-Mar-2015") == "14-Mar-2015"
    assert standard_value("fsm", "Yes") == "Y"
    assert standard_value("reg_group", "Yes") == "Yes"
    assert standard_value("code", "N") == "N"  # an attendance mark, not a flag
