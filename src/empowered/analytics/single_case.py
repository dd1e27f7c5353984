"""Is this strategy helping this child? Single-case non-overlap measures.

A = observations before the strategy (baseline), B = observations with it. The methods
follow the R package SingleCaseES (Pustejovsky, Chen & Swan), which the special-education
literature treats as the reference implementation:

- NAP (Parker & Vannest 2009): over every (A, B) pair score 1 if B is better, 0.5 if tied,
  0 if worse, and average. Standard error: the "unbiased" Sen (1967) / Mee (1990)
  estimator, with SingleCaseES's truncation of NAP away from 0 and 1 inside the variance
  so a perfect separation does not claim zero uncertainty. Interval: Newcombe's (2006)
  symmetrised score method (his method 5).
- Tau = 2 NAP - 1, its standard error and interval rescaled the same way.
- Tau-BC (Tarlow 2017) as ``Tau_BC()`` does by default (``Kendall = FALSE``,
  ``pretest_trend = FALSE``): fit a Theil-Sen line to the baseline against session
  numbers 1..n_a, remove it from both phases (B continues at n_a + 1), then Tau with the
  same standard error and interval. Note SingleCaseES's intercept is the median of
  ``A - slope * session``, not scipy's ``median(A) - slope * median(session)``.

Missing values are dropped, as SingleCaseES does. Phase data must be in session order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from empowered.analytics.wording import count_phrase, number, percent, percent_range

MIN_POINTS_PER_PHASE = 5
# Lag-1 autocorrelation estimated from fewer points is too noisy to act on.
MIN_POINTS_FOR_AUTOCORRELATION = 8

Improvement = Literal["increase", "decrease"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NonOverlap:
    nap: float
    nap_se: float
    nap_low: float
    nap_high: float
    tau: float
    tau_low: float
    tau_high: float
    n_a: int
    n_b: int
    improvement: str
    confidence: float
    summary: str


@dataclass(frozen=True)
class TauBC:
    tau: float
    se: float
    low: float
    high: float
    slope: float
    intercept: float
    n_a: int
    n_b: int
    corrected: bool
    summary: str


def _clean(values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def _check(improvement: str, confidence: float) -> None:
    if improvement not in ("increase", "decrease"):
        raise ValueError(f"improvement must be 'increase' or 'decrease', got {improvement!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


def _nap_core(
    a: FloatArray, b: FloatArray, improvement: str, confidence: float
) -> tuple[float, float, float, float]:
    """NAP, its unbiased standard error and Newcombe interval (SingleCaseES ``calc_NAP``)."""
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy.optimize import brentq
    from scipy.stats import norm

    if improvement == "decrease":
        a, b = -a, -b
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        return (math.nan, math.nan, math.nan, math.nan)
    # q[i, j]: how baseline point i compares with strategy point j.
    q = (b[None, :] > a[:, None]) + 0.5 * (b[None, :] == a[:, None])
    est = float(q.mean())

    se = math.nan
    if m > 1 and n > 1:
        dev = q - est
        q1 = float(np.sum(dev.sum(axis=1) ** 2)) / (m * n * n)
        q2 = float(np.sum(dev.sum(axis=0) ** 2)) / (m * m * n)
        x = float(np.sum(dev**2)) / (m * n)
        trunc = 0.5 / (m * n)
        est_t = min(max(est, trunc), 1 - trunc)
        var = (est_t * (1 - est_t) + n * q1 + m * q2 - 2 * x) / ((m - 1) * (n - 1))
        se = math.sqrt(max(var, 0.0))

    z = float(norm.ppf(1 - (1 - confidence) / 2))
    h = (m + n) / 2 - 1

    def score(p: float) -> float:
        return float(
            m * n * (est - p) ** 2 * (2 - p) * (1 + p)
            - z * z * p * (1 - p) * (2 + h + (1 + 2 * h) * p * (1 - p))
        )

    # When NAP is exactly 0 or 1 the score equation also has a trivial root at NAP itself;
    # stepping just inside finds the informative bound instead.
    edge = 1e-12
    low = 0.0 if est <= 0 else float(brentq(score, 0.0, min(est, 1 - edge)))
    high = 1.0 if est >= 1 else float(brentq(score, max(est, edge), 1.0))
    return (est, se, low, high)


def _pairs_phrase(n_a: int, n_b: int) -> str:
    return f"from {count_phrase(n_a, 'observation')} before the strategy and {n_b:,} with it"


def nap(
    a: Sequence[float] | npt.ArrayLike,
    b: Sequence[float] | npt.ArrayLike,
    *,
    improvement: Improvement = "increase",
    confidence: float = 0.95,
) -> NonOverlap:
    """Non-overlap of all pairs between baseline ``a`` and strategy phase ``b``."""
    _check(improvement, confidence)
    a_arr, b_arr = _clean(a), _clean(b)
    est, se, low, high = _nap_core(a_arr, b_arr, improvement, confidence)
    n_a, n_b = len(a_arr), len(b_arr)
    reason = too_little_to_judge(a_arr, b_arr)
    if reason is not None:
        summary = f"Too little to judge yet: {reason}."
    else:
        summary = (
            "Comparing every observation before the strategy with every one during it, "
            f"about {percent(est)} of pairs favoured the strategy "
            f"({percent_range(low, high)}; 50% would mean no difference), "
            f"{_pairs_phrase(n_a, n_b)}."
        )
    return NonOverlap(
        nap=est,
        nap_se=se,
        nap_low=low,
        nap_high=high,
        tau=2 * est - 1,
        tau_low=2 * low - 1,
        tau_high=2 * high - 1,
        n_a=n_a,
        n_b=n_b,
        improvement=improvement,
        confidence=confidence,
        summary=summary,
    )


def theil_sen(y: FloatArray, x: FloatArray) -> tuple[float, float]:
    """Slope (median of pairwise slopes) and intercept (median of ``y - slope * x``)."""
    i, j = np.triu_indices(len(y), k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep]))
    intercept = float(np.median(y - slope * x))
    return slope, intercept


def tau_bc(
    a: Sequence[float] | npt.ArrayLike,
    b: Sequence[float] | npt.ArrayLike,
    *,
    improvement: Improvement = "increase",
    confidence: float = 0.95,
) -> TauBC:
    """Baseline-corrected Tau (Tarlow 2017), as SingleCaseES ``Tau_BC()`` with defaults.

    ``corrected`` is False only when the baseline has fewer than 2 points, so no trend can
    be fitted and plain Tau is returned.
    """
    _check(improvement, confidence)
    a_arr, b_arr = _clean(a), _clean(b)
    n_a, n_b = len(a_arr), len(b_arr)
    slope, intercept, corrected = 0.0, 0.0, False
    if n_a >= 2:
        session_a = np.arange(1, n_a + 1, dtype=np.float64)
        session_b = np.arange(n_a + 1, n_a + n_b + 1, dtype=np.float64)
        slope, intercept = theil_sen(a_arr, session_a)
        a_arr = a_arr - intercept - slope * session_a
        b_arr = b_arr - intercept - slope * session_b
        corrected = True
    est, se, low, high = _nap_core(a_arr, b_arr, improvement, confidence)
    tau, tau_se, tau_low, tau_high = 2 * est - 1, 2 * se, 2 * low - 1, 2 * high - 1

    reason = too_little_to_judge(_clean(a), _clean(b))
    if reason is not None:
        summary = f"Too little to judge yet: {reason}."
    else:
        lead = (
            "With no trend before the strategy to allow for"
            if slope == 0
            else (
                "Allowing for the trend already there before the strategy "
                f"({'rising' if slope > 0 else 'falling'} by about "
                f"{number(abs(slope), 2)} per observation)"
            )
        )
        summary = (
            f"{lead}, about {percent(est)} of before-and-during comparisons favoured the "
            f"strategy ({percent_range(low, high)}; 50% would mean no difference), "
            f"{_pairs_phrase(n_a, n_b)}."
        )
    return TauBC(
        tau=tau,
        se=tau_se,
        low=tau_low,
        high=tau_high,
        slope=slope,
        intercept=intercept,
        n_a=n_a,
        n_b=n_b,
        corrected=corrected,
        summary=summary,
    )


def pnd(
    a: Sequence[float] | npt.ArrayLike,
    b: Sequence[float] | npt.ArrayLike,
    *,
    improvement: Improvement = "increase",
) -> float:
    """Share of strategy-phase points beyond the best baseline point (secondary figure only:
    it rests on a single extreme baseline value and grows with baseline length)."""
    _check(improvement, 0.95)
    a_arr, b_arr = _clean(a), _clean(b)
    if len(a_arr) == 0 or len(b_arr) == 0:
        return math.nan
    if improvement == "decrease":
        return float(np.mean(b_arr < a_arr.min()))
    return float(np.mean(b_arr > a_arr.max()))


def lag1_autocorrelation(x: Sequence[float] | npt.ArrayLike) -> float:
    """Lag-1 autocorrelation (the usual estimator, as ``statsmodels`` ``acf``); NaN when
    the series is constant or shorter than 2."""
    arr = _clean(x)
    if len(arr) < 2:
        return math.nan
    dev = arr - arr.mean()
    denom = float(np.sum(dev**2))
    if denom == 0:
        return math.nan
    return float(np.sum(dev[:-1] * dev[1:])) / denom


def too_little_to_judge(
    a: Sequence[float] | npt.ArrayLike,
    b: Sequence[float] | npt.ArrayLike,
    *,
    min_points: int = MIN_POINTS_PER_PHASE,
    max_autocorrelation: float = 0.5,
) -> str | None:
    """None when the phases can be compared, else the plain reason they cannot.

    Non-overlap methods assume observations are roughly independent; a baseline in which
    each point largely predicts the next makes them overstate any change. That check needs
    at least 8 baseline points to mean anything.
    """
    a_arr, b_arr = _clean(a), _clean(b)
    short = []
    if len(a_arr) < min_points:
        short.append(f"only {count_phrase(len(a_arr), 'observation')} before the strategy")
    if len(b_arr) < min_points:
        short.append(f"only {count_phrase(len(b_arr), 'observation')} with the strategy")
    if short:
        return f"{' and '.join(short)}; at least {min_points} of each are needed"
    if len(a_arr) >= MIN_POINTS_FOR_AUTOCORRELATION:
        r1 = lag1_autocorrelation(a_arr)
        if math.isfinite(r1) and r1 > max_autocorrelation:
            return (
                "the observations before the strategy are strongly linked, each largely "
                f"predicting the next (lag-1 autocorrelation {number(r1, 2)}, above "
                f"{number(max_autocorrelation, 2)}), so a before-and-after comparison "
                "could mislead"
            )
    return None
