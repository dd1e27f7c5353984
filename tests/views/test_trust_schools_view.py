"""The schools side by side (views.trust_schools): what suppression hides for a reader who
may not open each pupil, and what a figure beside a hidden one would give away."""

from __future__ import annotations

from datetime import date
from typing import Any

from empowered.views.trust_schools import _row, _suppressed


def school(urn: str, **figures: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "school_urn": urn,
        "school_name": f"School {urn}",
        "academic_year": "2025/26",
        "as_of_date": date(2026, 7, 20),
        "on_roll": 131,
        "sen_support": 40,
        "ehc_plan": 20,
        "support_reviews_overdue": 6,
        "ehc_reviews_overdue": 7,
        "sen_pupils": 60,
        "sen_present": 900,
        "sen_possible": 1000,
        "other_pupils": 71,
        "other_present": 950,
        "other_possible": 1000,
        "provision_pupils": 30,
        "provision_cost": 12_345.0,
    }
    return base | figures


def rows(found: list[dict[str, Any]], triggers: dict[str, int], suppressed: bool) -> list[Any]:
    table = _suppressed(found, triggers, suppressed)
    return [_row(i, r, table, ()) for i, r in enumerate(found)]


def test_a_small_register_count_hides_what_would_give_it_away() -> None:
    found = [school("1", sen_support=3, ehc_plan=128), school("2")]
    special, other = rows(found, {"1": 9, "2": 2}, suppressed=True)
    # SEN support of 3 is not shown by itself, but on the register (131) beside EHC plans
    # (128) would say it, and so would the share or the pupils on roll.
    assert special.ehc_plan == "128"
    assert special.on_register == special.on_register_share == special.on_roll == "c"
    assert other.on_register == "60" and other.on_roll == "131" and other.on_register_share == "46%"
    assert other.open_triggers == "c" and special.open_triggers == "9"


def test_a_rate_or_cost_is_hidden_with_its_few_pupils() -> None:
    (row,) = rows([school("1", other_pupils=4, provision_pupils=2)], {}, suppressed=True)
    assert row.attendance_no_sen == "c" and row.attendance_sen == "90.0%"
    assert row.provision_pupils == row.provision_cost == "c"


def test_staff_who_open_every_pupil_see_every_figure() -> None:
    (row,) = rows([school("1", sen_support=3, other_pupils=4, provision_pupils=2)], {"1": 1}, False)
    assert (row.on_roll, row.on_register, row.open_triggers) == ("131", "23", "1")
    assert row.provision_cost == "£12,345" and row.attendance_no_sen == "95.0%"
