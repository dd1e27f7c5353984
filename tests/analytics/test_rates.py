from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep

from empowered.analytics.rates import rate_ratio

CASES = [(12, 40.0, 30, 200.0), (3, 10.0, 9, 90.0), (1, 5.0, 20, 50.0), (7, 3.5, 7, 3.5)]


@pytest.mark.parametrize(("ea", "xa", "eb", "xb"), CASES)
@pytest.mark.parametrize("alternative", ["two-sided", "larger"])
def test_p_value_matches_statsmodels_exact_conditional(
    ea: int, xa: float, eb: int, xb: float, alternative: str
) -> None:
    res = rate_ratio(ea, xa, eb, xb, alternative=alternative)  # type: ignore[arg-type]
    ref = poisson_2indep(ea, xa, eb, xb, method="exact-cond", alternative=alternative)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize(("ea", "xa", "eb", "xb"), CASES)
def test_interval_is_clopper_pearson_on_the_conditional_binomial(
    ea: int, xa: float, eb: int, xb: float
) -> None:
    res = rate_ratio(ea, xa, eb, xb, confidence=0.9)
    ci = binomtest(ea, ea + eb).proportion_ci(confidence_level=0.9, method="exact")
    # share of events in a -> rate ratio: odds times exposure_b / exposure_a.
    assert res.low == pytest.approx(ci.low / (1 - ci.low) * xb / xa, rel=1e-9)
    assert res.high == pytest.approx(ci.high / (1 - ci.high) * xb / xa, rel=1e-9)
    assert res.ratio == pytest.approx((ea / xa) / (eb / xb))
    assert res.low < res.ratio < res.high


def test_equal_rates_give_ratio_one_and_no_evidence() -> None:
    res = rate_ratio(7, 3.5, 7, 3.5)
    assert res.ratio == pytest.approx(1.0)
    assert res.p_value == pytest.approx(1.0)


def test_zero_events_here_gives_zero_with_finite_upper_bound() -> None:
    res = rate_ratio(0, 10.0, 25, 100.0)
    assert res.ratio == 0 and res.low == 0
    assert math.isfinite(res.high) and res.high > 0
    assert "none happened here" in res.summary


def test_all_events_here_gives_infinity_with_finite_lower_bound() -> None:
    res = rate_ratio(8, 10.0, 0, 100.0)
    assert res.ratio == math.inf and res.high == math.inf
    assert math.isfinite(res.low) and res.low > 1
    assert "every event happened here" in res.summary


def test_no_events_anywhere() -> None:
    res = rate_ratio(0, 1.0, 0, 1.0)
    assert math.isnan(res.ratio)
    assert "nothing to compare" in res.summary


def test_summary_has_counts_and_range_and_too_few_says_so() -> None:
    res = rate_ratio(12, 40.0, 30, 200.0)
    assert res.summary.startswith("12 events in this context against 30 events everywhere else")
    assert "about 2 times the usual rate" in res.summary
    few = rate_ratio(2, 1.0, 1, 10.0)
    assert "too few" in few.summary and "times the usual" not in few.summary


def test_larger_alternative_is_one_sided() -> None:
    two = rate_ratio(12, 40.0, 30, 200.0)
    one = rate_ratio(12, 40.0, 30, 200.0, alternative="larger")
    assert one.p_value < two.p_value
    assert rate_ratio(1, 40.0, 30, 200.0, alternative="larger").p_value > 0.5


@pytest.mark.parametrize("bad", [(-1, 1.0, 1, 1.0), (1, 0.0, 1, 1.0), (1, 1.0, 1, -2.0)])
def test_bad_arguments_are_refused(bad: tuple[int, float, int, float]) -> None:
    with pytest.raises(ValueError):
        rate_ratio(*bad)
