"""Proportions with honest ranges: the Wilson score interval.

The Wilson interval is used rather than "p plus or minus 2 standard errors" because the
counts here are small (6 of 9 times after a transition) and the simple interval then
leaves [0, 1] or collapses to a point at 0 of n and n of n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from empowered.analytics.wording import count_phrase, percent, percent_range

# Below this many observations a percentage says more than the data do.
MIN_OBSERVATIONS = 5


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    estimate: float
    low: float
    high: float
    confidence: float
    summary: str


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


def wilson_bounds(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for successes out of n (both bounds within [0, 1])."""
    _check_confidence(confidence)
    if n <= 0:
        return (math.nan, math.nan)
    # The standard library's normal quantile: scipy takes over a second to import.
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # At 0 of n (n of n) the bound is exactly 0 (1); floating point leaves a hair's
    # breadth either side, which would put the estimate outside its own interval.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def wilson(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """``successes`` out of ``n`` as a proportion with its Wilson score interval.

    ``n = 0`` gives a NaN estimate and a summary saying there is nothing to go on.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    _check_confidence(confidence)
    if n == 0:
        return Proportion(
            successes,
            n,
            math.nan,
            math.nan,
            math.nan,
            confidence,
            "No observations yet, so there is nothing to go on.",
        )
    low, high = wilson_bounds(successes, n, confidence)
    estimate = successes / n
    of_n = f"{successes} of {count_phrase(n, 'time')}"
    if n < MIN_OBSERVATIONS:
        summary = (
            f"{of_n}: too few to put a percentage on yet (at least {MIN_OBSERVATIONS} are needed)."
        )
    else:
        summary = f"{of_n} (about {percent(estimate)}, {percent_range(low, high)})."
    return Proportion(successes, n, estimate, low, high, confidence, summary)
