from __future__ import annotations

from typing import Any

import pytest

from empowered.analytics.impact import cost_band, intervention_impact, months_of_progress

BANDS = [
    {"band": "very low", "min_cost_per_pupil": 0, "max_cost_per_pupil": 80},
    {"band": "low", "min_cost_per_pupil": 80, "max_cost_per_pupil": 200},
    {"band": "moderate", "min_cost_per_pupil": 200, "max_cost_per_pupil": 720},
    {"band": "very high", "min_cost_per_pupil": 1200, "max_cost_per_pupil": None},
]
MONTHS = [
    {"min_effect_size": -0.01, "max_effect_size": 0.01, "months": 0},
    {"min_effect_size": 0.02, "max_effect_size": 0.09, "months": 1},
    {"min_effect_size": 0.10, "max_effect_size": 0.18, "months": 2},
    {"min_effect_size": 0.45, "max_effect_size": 0.52, "months": 6},
]


def enrolment(i: int, pre: float | None, post: float | None, **extra: Any) -> dict[str, Any]:
    row = {
        "school_urn": "100001",
        "intervention_code": "precision_teaching",
        "intervention_name": "Precision teaching",
        "pupil_key": f"P{i}",
        "measure": "standardised_score",
        "pre_score": pre,
        "post_score": post,
        "cost_per_pupil": 300.0,
        "ratio_gain": None,
    }
    row.update(extra)
    return row


def test_a_clear_gain_is_worth_keeping_with_its_effect_size_and_cost() -> None:
    gains = [6, 8, 10, 7, 9, 8]
    rows = [enrolment(i, 85, 85 + g) for i, g in enumerate(gains)]
    impact = intervention_impact(rows, bands=BANDS)
    assert impact.mean_gain == pytest.approx(8.0)
    assert impact.effect_size == pytest.approx(8 / 15)
    assert impact.gain_low is not None and 0 < impact.gain_low < 8
    assert impact.cost_per_point == pytest.approx(300 / 8)
    assert impact.cost_band == "moderate"
    assert impact.verdict == "keep"
    assert impact.months_progress is None  # no comparison group: no EEF months
    assert "from 6 pupils" in impact.summary and "supports keeping" in impact.summary


def test_a_small_or_uncertain_gain_is_for_review() -> None:
    rows = [enrolment(i, 90, 90 + g) for i, g in enumerate([1, -2, 3, 0, 1, 2, -1])]
    assert intervention_impact(rows).verdict == "review"


def test_fewer_than_five_pupils_show_no_average() -> None:
    rows = [enrolment(i, 80, 95) for i in range(4)] + [enrolment(9, None, None)]
    impact = intervention_impact(rows)
    assert impact.mean_gain is None and impact.effect_size is None
    assert impact.verdict == "too early to say"
    assert "no average is shown" in impact.summary
    assert impact.pupils == 5 and impact.with_pre_and_post == 4


def test_eef_months_only_against_a_comparison_group() -> None:
    rows = [enrolment(i, 85, 85 + g) for i, g in enumerate([6, 8, 10, 7, 9, 8])]
    impact = intervention_impact(rows, comparison_effect=0.05, months_table=MONTHS)
    assert impact.months_progress == 6  # 0.533 - 0.05 = 0.48
    assert months_of_progress(-0.15, MONTHS) == -2


def test_cost_band_boundaries() -> None:
    assert cost_band(79.99, BANDS) == "very low"
    assert cost_band(80, BANDS) == "low"
    assert cost_band(5000, BANDS) == "very high"


def test_ratio_gain_for_reading_ages() -> None:
    rows = [
        enrolment(i, 90, 90 + 12, measure="reading_age_months", ratio_gain=r)
        for i, r in enumerate([2.0, 2.4, 1.8, 2.2, 2.1])
    ]
    impact = intervention_impact(rows)
    assert impact.ratio_gain == pytest.approx(2.1)
    assert impact.verdict == "keep"
    assert "ratio gain" in impact.summary
