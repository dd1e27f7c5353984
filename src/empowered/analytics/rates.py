"""Is something more frequent in one context? A Poisson rate ratio with exposure.

Used for scatterplot cells and contexts: incidents in one time slot (``a``) per hour
observed, against incidents everywhere else (``b``) per hour observed. The method is the
exact conditional one: given the total number of events, the number that fell in ``a`` is
binomial with probability ``exposure_a * r / (exposure_a * r + exposure_b)`` where ``r`` is
the rate ratio, so the binomial test and the Clopper-Pearson interval for that
probability carry over to ``r`` exactly. Being exact it stays valid for the small counts
a single child gives, where normal approximations do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from empowered.analytics.wording import count_phrase, number

# Fewer events than this in total cannot say whether one context is harder.
MIN_EVENTS = 5

Alternative = Literal["two-sided", "larger"]


@dataclass(frozen=True)
class RateRatio:
    events_a: int
    exposure_a: float
    events_b: int
    exposure_b: float
    ratio: float
    low: float
    high: float
    p_value: float
    summary: str


def _odds_to_ratio(prob: float, exposure_a: float, exposure_b: float) -> float:
    if prob >= 1:
        return math.inf
    return prob / (1 - prob) * exposure_b / exposure_a


def rate_ratio(
    events_a: int,
    exposure_a: float,
    events_b: int,
    exposure_b: float,
    confidence: float = 0.95,
    alternative: Alternative = "two-sided",
) -> RateRatio:
    """Rate in ``a`` divided by the rate in ``b``, with an exact interval and p-value.

    The interval is always the two-sided Clopper-Pearson one (it is what staff see);
    ``alternative`` only changes the p-value ("larger": is ``a`` more frequent?). Zero
    events in ``a`` give a ratio of 0 with a finite upper bound; zero in ``b`` give an
    infinite ratio with a finite lower bound.
    """
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy.stats import beta as beta_dist
    from scipy.stats import binomtest

    if events_a < 0 or events_b < 0:
        raise ValueError("event counts cannot be negative")
    if not (exposure_a > 0 and exposure_b > 0) or not math.isfinite(exposure_a + exposure_b):
        raise ValueError("exposures must be positive and finite")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if alternative not in ("two-sided", "larger"):
        raise ValueError(f"alternative must be 'two-sided' or 'larger', got {alternative!r}")

    total = events_a + events_b
    if total == 0:
        return RateRatio(
            events_a,
            exposure_a,
            events_b,
            exposure_b,
            math.nan,
            0.0,
            math.inf,
            1.0,
            "No events recorded in any context, so there is nothing to compare.",
        )

    null_prob = exposure_a / (exposure_a + exposure_b)
    scipy_alternative = "greater" if alternative == "larger" else "two-sided"
    p_value = float(binomtest(events_a, total, null_prob, alternative=scipy_alternative).pvalue)

    alpha = 1 - confidence
    # Clopper-Pearson bounds for the share of events falling in ``a``.
    prob_low = 0.0 if events_a == 0 else float(beta_dist.ppf(alpha / 2, events_a, events_b + 1))
    prob_high = (
        1.0 if events_b == 0 else float(beta_dist.ppf(1 - alpha / 2, events_a + 1, events_b))
    )
    ratio = math.inf if events_b == 0 else (events_a / exposure_a) / (events_b / exposure_b)
    low = _odds_to_ratio(prob_low, exposure_a, exposure_b)
    high = _odds_to_ratio(prob_high, exposure_a, exposure_b)

    counts = (
        f"{count_phrase(events_a, 'event')} in this context against "
        f"{count_phrase(events_b, 'event')} everywhere else"
    )
    if total < MIN_EVENTS:
        summary = (
            f"{counts}: too few in total to say whether this context is harder "
            f"(at least {MIN_EVENTS} are needed)."
        )
    elif events_b == 0:
        summary = (
            f"{counts}: every event happened here (at least {number(low)} times the "
            "usual rate, allowing for time observed)."
        )
    elif events_a == 0:
        summary = (
            f"{counts}: none happened here (at most {number(high)} times the usual rate, "
            "allowing for time observed)."
        )
    else:
        summary = (
            f"{counts}: about {number(ratio)} times the usual rate, allowing for time "
            f"observed (likely {number(low)} to {number(high)} times)."
        )
    return RateRatio(events_a, exposure_a, events_b, exposure_b, ratio, low, high, p_value, summary)
