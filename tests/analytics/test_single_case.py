"""Single-case non-overlap measures against SingleCaseES (jepusto/SingleCaseES on GitHub).

Where each expected value comes from is said beside it. SingleCaseES's own tests publish
the point estimates for the first documentation example; no published SE or interval was
found for either example (the rendered vignettes were not available to search), so those
are checked by independent routes: a differently written variance formula taken from
SingleCaseES's test suite, and Newcombe's interval solved from his own published form of
the variance rather than from the expanded equation the package solves.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import bisect
from scipy.stats import norm, theilslopes
from statsmodels.tsa.stattools import acf

from empowered.analytics.single_case import (
    MIN_POINTS_PER_PHASE,
    lag1_autocorrelation,
    nap,
    pnd,
    tau_bc,
    too_little_to_judge,
)

# Documentation examples of SingleCaseES (NAP(), Tau(), Tau_BC() help pages and vignette).
A1 = [20, 20, 26, 25, 22, 23]
B1 = [28, 25, 24, 27, 30, 30, 29]
# The "Example from Parker & Vannest (2009)" in the NAP() help page.
A2 = [4, 3, 4, 3, 4, 7, 5, 2, 3, 2]
B2 = [5, 9, 7, 9, 7, 5, 9, 11, 11, 10, 9]


def brute_pairs(a: list[float], b: list[float]) -> tuple[int, int, int]:
    better = sum(1 for x, y in itertools.product(a, b) if y > x)
    tied = sum(1 for x, y in itertools.product(a, b) if y == x)
    worse = sum(1 for x, y in itertools.product(a, b) if y < x)
    return better, tied, worse


def tau_unbiased_se(a: list[float], b: list[float]) -> float:
    """The unbiased Tau variance as SingleCaseES's tests/testthat/test-Tau-variance-
    estimator.R writes it (on the sign matrix, not on NAP's 0/0.5/1 scores)."""
    u = np.array([[np.sign(y - x) for y in b] for x in a])
    m, n = u.shape
    tau = u.sum() / (m * n)
    q1 = np.sum(u.sum(axis=1) ** 2) / (m * n**2)
    q2 = np.sum(u.sum(axis=0) ** 2) / (m**2 * n)
    x = np.sum(u**2) / (m * n)
    v = (1 + n * q1 + m * q2 - (m + n - 1) * tau**2 - 2 * x) / ((m - 1) * (n - 1))
    return float(math.sqrt(v))


def newcombe5(est: float, m: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe (2006) method 5 from his published variance
    theta(1-theta)/(mn) * {1 + (N*-1)[(1-theta)/(2-theta) + theta/(1+theta)]}, N* = (m+n)/2,
    inverted by bisection on |est - theta| = z * sd(theta)."""
    z = norm.ppf(0.5 + confidence / 2)
    n_star = (m + n) / 2

    def gap(theta: float) -> float:
        var = (
            theta
            * (1 - theta)
            / (m * n)
            * (1 + (n_star - 1) * ((1 - theta) / (2 - theta) + theta / (1 + theta)))
        )
        return abs(est - theta) - z * math.sqrt(var)

    low = 0.0 if est == 0 else bisect(gap, 1e-12, est - 1e-12, xtol=1e-14)
    high = 1.0 if est == 1 else bisect(gap, est + 1e-12, 1 - 1e-12, xtol=1e-14)
    return low, high


def test_nap_example_1_matches_published_point_estimates() -> None:
    res = nap(A1, B1)
    # SingleCaseES tests/testthat/test-parker-vannest-davis-2011.R: NAP = 38.5 / 42 and
    # Tau = (38 - 3) / 42 for this series.
    assert res.nap == pytest.approx(38.5 / 42)
    assert res.tau == pytest.approx((38 - 3) / 42)
    better, tied, worse = brute_pairs(A1, B1)
    assert (better, tied, worse) == (38, 1, 3)
    assert (res.n_a, res.n_b) == (6, 7)


@pytest.mark.parametrize(("a", "b"), [(A1, B1), (A2, B2)])
def test_nap_matches_brute_force_and_independent_se_and_interval(
    a: list[float], b: list[float]
) -> None:
    res = nap(a, b)
    better, tied, _ = brute_pairs(a, b)
    assert res.nap == pytest.approx((better + 0.5 * tied) / (len(a) * len(b)))
    # NAP's SE is half of Tau's; Tau's unbiased SE written as in SingleCaseES's tests.
    assert res.nap_se == pytest.approx(tau_unbiased_se(a, b) / 2, rel=1e-10)
    low, high = newcombe5(res.nap, len(a), len(b))
    assert res.nap_low == pytest.approx(low, abs=1e-9)
    assert res.nap_high == pytest.approx(high, abs=1e-9)
    assert res.tau_low == pytest.approx(2 * low - 1, abs=1e-9)
    assert res.tau_high == pytest.approx(2 * high - 1, abs=1e-9)
    assert res.nap_low < res.nap < res.nap_high


def test_nap_parker_vannest_example() -> None:
    res = nap(A2, B2)
    # Brute force over the 110 pairs: 104 better, 4 ties, 2 worse.
    assert brute_pairs(A2, B2) == (104, 4, 2)
    assert res.nap == pytest.approx(106 / 110)
    assert res.tau == pytest.approx(2 * 106 / 110 - 1)


def test_decrease_mirrors_increase() -> None:
    up = nap(A1, B1)
    down = nap([-v for v in A1], [-v for v in B1], improvement="decrease")
    assert (down.nap, down.nap_se, down.nap_low, down.nap_high) == pytest.approx(
        (up.nap, up.nap_se, up.nap_low, up.nap_high)
    )


def test_complete_separation_keeps_an_informative_interval() -> None:
    res = nap([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert res.nap == 1.0
    assert res.nap_high == 1.0
    # The lower bound is the non-trivial root of Newcombe's equation, not NAP itself.
    low, _ = newcombe5(1.0, 5, 5)
    assert res.nap_low == pytest.approx(low, abs=1e-9)
    assert 0.5 < res.nap_low < 0.9
    # SingleCaseES truncates NAP to 1 - 0.5/(mn) inside the variance: the SE is not 0.
    assert res.nap_se > 0


def test_tau_bc_follows_singlecasees_method() -> None:
    res = tau_bc(A1, B1)
    sessions_a = np.arange(1, 7)
    sessions_b = np.arange(7, 14)
    # Slope: Theil-Sen, the median of pairwise slopes, same definition as scipy's.
    slope = theilslopes(A1, sessions_a).slope
    # Intercept: SingleCaseES R/non-overlap-measures.R (calc_Tau_BC) takes
    # median(A - slope * session); scipy's median(A) - slope * median(session) differs
    # here (20.4 against 19.4), which is the trap to avoid.
    intercept = float(np.median(np.array(A1) - slope * sessions_a))
    assert theilslopes(A1, sessions_a).intercept != pytest.approx(intercept)
    assert res.slope == pytest.approx(slope)
    assert res.intercept == pytest.approx(intercept)
    assert res.corrected
    a_corr = list(np.array(A1) - intercept - slope * sessions_a)
    b_corr = list(np.array(B1) - intercept - slope * sessions_b)
    better, _, worse = brute_pairs(a_corr, b_corr)
    assert res.tau == pytest.approx((better - worse) / 42)
    # test-tarlow-2017.R: Tau_BC (Kendall = FALSE) equals Tau() of the corrected data,
    # standard error and interval included.
    plain = nap(a_corr, b_corr)
    assert res.tau == pytest.approx(plain.tau)
    assert res.se == pytest.approx(2 * plain.nap_se)
    assert (res.low, res.high) == pytest.approx((plain.tau_low, plain.tau_high))


def test_tau_bc_parker_vannest_example_by_brute_force() -> None:
    res = tau_bc(A2, B2)
    s_a, s_b = np.arange(1, 11), np.arange(11, 22)
    slope = theilslopes(A2, s_a).slope
    intercept = float(np.median(np.array(A2) - slope * s_a))
    better, _, worse = brute_pairs(
        list(np.array(A2) - intercept - slope * s_a), list(np.array(B2) - intercept - slope * s_b)
    )
    assert res.slope == pytest.approx(slope)
    assert res.tau == pytest.approx((better - worse) / 110)
    assert res.low < res.tau < res.high


def test_tau_bc_published_values_from_tarlow_tests() -> None:
    # test-tarlow-2017.R: A = 1..5, B = 6..10 gives Tau = 1 but Tau-BC = 0, because the
    # strategy phase simply continues the baseline trend.
    assert nap([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).tau == 1
    res = tau_bc([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert res.tau == pytest.approx(0.0, abs=1e-12)
    assert res.slope == pytest.approx(1.0)


def test_tau_bc_direction_symmetry_from_singlecasees_tests() -> None:
    # test-tarlow-2017.R: swapping the direction negates Tau-BC and mirrors its interval.
    a, b = [1, 1, 3, 3, 5, 5], [5, 6, 4, 8, 9]
    up = tau_bc(a, b, improvement="increase")
    down = tau_bc(a, b, improvement="decrease")
    assert up.tau == pytest.approx(-down.tau)
    assert up.se == pytest.approx(down.se)
    assert up.low == pytest.approx(-down.high)
    assert up.high == pytest.approx(-down.low)


def test_pnd_published_value() -> None:
    # test-parker-vannest-davis-2011.R: PND = 5 / 7 for the first example.
    assert pnd(A1, B1) == pytest.approx(5 / 7)
    assert pnd([5, 4, 6], [3, 4, 7], improvement="decrease") == pytest.approx(1 / 3)


def test_missing_values_are_dropped() -> None:
    res = nap([*A1, math.nan], [math.nan, *B1])
    assert (res.n_a, res.n_b) == (6, 7)
    assert res.nap == pytest.approx(38.5 / 42)


def test_summary_reads_plainly_with_counts() -> None:
    res = nap(A1, B1)
    assert "about 92% of pairs favoured the strategy" in res.summary
    assert "likely 60\u201399%" in res.summary
    assert "6 observations before the strategy and 7 with it" in res.summary
    assert "NAP" not in res.summary


def test_too_few_points_says_so_instead_of_a_number() -> None:
    res = nap([3, 4, 3], [5, 6, 7, 6, 5])
    assert res.summary.startswith("Too little to judge yet")
    assert "only 3 observations before the strategy" in res.summary
    assert "%" not in res.summary
    assert "Too little" in tau_bc([3, 4, 3], [5, 6, 7, 6, 5]).summary


def test_too_little_to_judge_reasons() -> None:
    five = [1, 2, 3, 2, 1]
    assert too_little_to_judge(five, five) is None
    assert too_little_to_judge([1, 2], five) == (
        "only 2 observations before the strategy; at least 5 of each are needed"
    )
    reason = too_little_to_judge(five, [1])
    assert reason is not None and "only 1 observation with the strategy" in reason
    assert too_little_to_judge([1, 2, 3], five, min_points=3) is None
    assert MIN_POINTS_PER_PHASE == 5


def test_autocorrelated_baseline_is_flagged_only_with_enough_points() -> None:
    # A slow drift: each point sits next to the one before, so the series is strongly
    # autocorrelated.
    drift = np.array([2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6], dtype=float)
    r1 = lag1_autocorrelation(drift)
    assert r1 == pytest.approx(acf(drift, nlags=1, fft=False)[1])
    assert r1 > 0.5
    reason = too_little_to_judge(drift, [0.0] * 6)
    assert reason is not None and "strongly linked" in reason
    # Seven points are too few to estimate autocorrelation, so it is not held against them.
    assert too_little_to_judge(drift[:7], [0.0] * 6) is None
    assert too_little_to_judge(drift, [0.0] * 6, max_autocorrelation=0.99) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        nap(A1, B1, improvement="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tau_bc(A1, B1, confidence=1.5)
