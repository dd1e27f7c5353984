"""Before and after a strategy began: the child's days of mood either side of its first use.

The single-case comparison of ANALYTICS.md section 1, with each school day (the day's
average mood) one observation: phase A is up to ``WINDOW_DAYS`` days with a rating before
the strategy's first recorded use, phase B up to as many from that day on. Nearby days
keep the comparison about the strategy's start rather than the whole year.

* NAP (:func:`~empowered.analytics.single_case.nap`) when the days before show no trend;
* Tau-BC (:func:`~empowered.analytics.single_case.tau_bc`) when they already rise or fall:
  the trend is tested first with Kendall's rank correlation against day order at the 5%
  level (the ``pretest_trend`` option of SingleCaseES's ``Tau_BC``, as Tarlow 2017
  recommends), so a flat baseline is not "corrected" for a trend that is only noise.

Either way the result is said on NAP's scale, in tenths: "about 7 in 10 days had a better
mood than a typical day before it", with the likely range in the same words and the size
named from Tau's bands (Vannest & Ninci 2015: up to 0.2 small, to 0.6 moderate, to 0.8
large, beyond very large). Staff read no method names; the glossary explains them.

Too few days, or days so alike from one to the next that the comparison would overstate
a change (lag-1 autocorrelation above 0.5), are said as "not enough days yet" with the
reason, never left out. A comparison is not proof the strategy caused the change; the page
says so beside these sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from empowered.analytics.single_case import (
    MIN_POINTS_FOR_AUTOCORRELATION,
    lag1_autocorrelation,
    nap,
    tau_bc,
    theil_sen,
)
from empowered.analytics.wording import count_phrase, day_text

WINDOW_DAYS = 30  # days with a rating on each side: about six school weeks
MIN_DAYS = 10  # on each side: two school weeks
MAX_CARRY_OVER = 0.5
NEAR_DAYS = 5  # a lasting change this close before the start is the start's own
TREND_ALPHA = 0.05
# Tau's bands (Vannest & Ninci 2015), as the share of comparisons that went one way.
SIZE_BANDS = ((0.9, "a very large change"), (0.8, "a large change"), (0.6, "a moderate change"))


@dataclass(frozen=True)
class BeforeAfter:
    strategy_code: str
    strategy_name: str
    began_on: date
    days_before: int
    days_after: int
    method: str | None  # "NAP" or "Tau-BC"; None when there was too little to compare
    share_better: float | None  # NAP scale: the share of (after, before) pairs better after
    low: float | None
    high: float | None
    clear: bool  # the likely range leaves out "no change"
    summary: str


def tenths(x: float) -> int:
    return int(math.floor(x * 10 + 0.5))


def _size(share: float) -> str:
    for bound, words in SIZE_BANDS:
        if share >= bound:
            return words
    return "a small change"


def _not_enough(
    code: str, name: str, began: date, a: int, b: int, why: str, *, yet: bool = True
) -> BeforeAfter:
    cannot = "not enough days yet to compare" if yet else "nothing to compare"
    summary = f"{name}, first used on {day_text(began)}: {cannot}; {why}."
    return BeforeAfter(code, name, began, a, b, None, None, None, None, False, summary)


def _settled_from(began: date, days: Sequence[date], changes: Sequence[date]) -> date | None:
    earlier = [c for c in changes if sum(c <= d < began for d in days) > NEAR_DAYS]
    return max(earlier, default=None)


def _carry_over(before: Sequence[float], trend: bool) -> float:
    """Lag-1 autocorrelation of the days before, around their trend when there is one (a
    steady rise makes each day predict the next; that is the trend, allowed for)."""
    arr = np.asarray(before, dtype=np.float64)
    if trend:
        order = np.arange(1, len(arr) + 1, dtype=np.float64)
        slope, intercept = theil_sen(arr, order)
        arr = arr - intercept - slope * order
    return lag1_autocorrelation(arr)


def _trending(before: Sequence[float]) -> bool:
    from scipy.stats import kendalltau  # loaded on first use: scipy is slow to import

    if len(set(before)) < 2:
        return False
    result = kendalltau(range(len(before)), before)
    return bool(result.pvalue < TREND_ALPHA)


def before_after(
    code: str,
    name: str,
    began: date,
    days: Sequence[date],
    mood: Sequence[float],
    *,
    level_changes: Sequence[date] = (),
    window: int = WINDOW_DAYS,
    min_days: int = MIN_DAYS,
) -> BeforeAfter:
    """Compare the child's days with a mood rating before ``began`` with those from it on
    (``days`` in order, one daily average each; higher is better).

    ``level_changes``: the days a lasting change in mood began. The days before the latest
    one ahead of ``began`` were at another level, so they are not the strategy's baseline:
    a step inside the baseline would read as a trend, and Tau-BC would carry it on past
    the start, finding "better" where mood merely stayed low. A change found within
    ``NEAR_DAYS`` rated days of the start is taken as the start's own (a changepoint's day
    is only known to within a few days), so it does not empty the baseline.
    """
    settled_from = _settled_from(began, days, level_changes)
    start = settled_from or date.min
    before = [m for d, m in zip(days, mood, strict=True) if start <= d < began][-window:]
    after = [m for d, m in zip(days, mood, strict=True) if d >= began][:window]
    a, b = len(before), len(after)
    if a == 0 and settled_from is None:
        # Used from the first check-ins on: waiting will never bring days before it.
        return _not_enough(
            code, name, began, a, b,
            "it was in use from the first days with a mood rating, so there are no days "
            "before it to compare with",
            yet=False,
        )  # fmt: skip
    if a < min_days or b < min_days:
        since = f" since mood changed on {day_text(start)}" if settled_from else ""
        short = (
            [f"{count_phrase(a, 'day')} with a mood rating before it{since}"]
            if a < min_days
            else []
        )
        short += [f"{count_phrase(b, 'day')} from then on"] if b < min_days else []
        return _not_enough(
            code, name, began, a, b, f"{' and '.join(short)}; at least {min_days} of each needed"
        )
    trend = _trending(before)
    if a >= MIN_POINTS_FOR_AUTOCORRELATION and _carry_over(before, trend) > MAX_CARRY_OVER:
        return _not_enough(
            code, name, began, a, b,
            "the days before it were so alike from one to the next that a comparison could "
            "overstate any change",
        )  # fmt: skip
    if trend:
        t = tau_bc(before, after)
        share, low, high = (t.tau + 1) / 2, (t.low + 1) / 2, (t.high + 1) / 2
    else:
        r = nap(before, after)
        share, low, high = r.nap, r.nap_low, r.nap_high
    clear = low > 0.5 or high < 0.5
    summary = _sentence(name, began, share, low, high, clear, trend, a, b)
    method = "Tau-BC" if trend else "NAP"
    return BeforeAfter(code, name, began, a, b, method, share, low, high, clear, summary)


def _sentence(
    name: str,
    began: date,
    share: float,
    low: float,
    high: float,
    clear: bool,
    trend: bool,
    a: int,
    b: int,
) -> str:
    better = share >= 0.5
    way = "better" if better else "lower"
    # Said the way it went: "7 in 10 days had a lower mood" rather than "3 in 10 better".
    s, lo, hi = (share, low, high) if better else (1 - share, 1 - high, 1 - low)
    lead = f"After {name} began on {day_text(began)}"
    if trend:
        lead += ", allowing for the trend already there before it"
    if clear:
        verdict = f"({_size(s)}; likely {tenths(lo)} to {tenths(hi)} in 10)"
    else:
        verdict = (
            f"(likely {tenths(lo)} to {tenths(hi)} in 10, which includes no change: "
            "no clear change yet)"
        )
    how_many = "nearly all days" if tenths(s) == 10 else f"about {tenths(s)} in 10 days"
    return (
        f"{lead}, {how_many} had a {way} mood than a typical day before it "
        f"{verdict}; from {count_phrase(a, 'school day')} with a mood rating before and "
        f"{b:,} after."
    )
