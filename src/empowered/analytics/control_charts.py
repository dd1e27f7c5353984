"""Early signs: a child compared with their own usual level (EWMA and CUSUM charts).

Both charts watch a series (daily mood, weekly attendance) against a target and a typical
variation taken from the child's own baseline (``robust_baseline``). A point beyond the
limit is "worth a conversation", never a verdict: every result names the rule, the limit
and the observations that crossed it.

- EWMA (Roberts 1959; Montgomery, Introduction to Statistical Quality Control, 6.4):
  ``z_t = lam x_t + (1 - lam) z_{t-1}``, ``z_0 = target``, with the exact time-varying
  limits ``target +/- L sigma sqrt(lam / (2 - lam) (1 - (1 - lam)^(2t)))``.
- Tabular CUSUM (Page 1954; Montgomery 9.1) with ``k`` and ``h`` in units of sigma.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from empowered.analytics.wording import count_phrase, number

Direction = Literal["lower", "upper", "both"]
FloatArray = npt.NDArray[np.float64]

# d2 for moving ranges of 2 (mean |x_t - x_{t-1}| = 1.128 sigma), and the matching
# constant for the median moving range (sigma sqrt(2) times the normal quartile 0.6745).
D2_MEAN_MOVING_RANGE = 1.128
MEDIAN_MOVING_RANGE_CONSTANT = math.sqrt(2) * 0.6744897501960817


@dataclass(frozen=True)
class Ewma:
    z: FloatArray
    upper: FloatArray
    lower: FloatArray
    signals: tuple[int, ...]
    first_signal: int | None
    target: float
    sigma: float
    lam: float
    L: float
    summary: str


@dataclass(frozen=True)
class Cusum:
    upper: FloatArray
    lower: FloatArray
    signals: tuple[int, ...]
    first_signal: int | None
    k: float
    h: float
    summary: str


def _series(x: Sequence[float] | npt.ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError("the series must not contain missing or infinite values")
    return arr


def _frozen(arr: FloatArray) -> FloatArray:
    arr.setflags(write=False)
    return arr


def _check_direction(direction: str) -> None:
    if direction not in ("lower", "upper", "both"):
        raise ValueError(f"direction must be 'lower', 'upper' or 'both', got {direction!r}")


def _signal_summary(chart: str, rule: str, signals: tuple[int, ...], n: int) -> str:
    if n == 0:
        return "No observations yet, so there is nothing to watch."
    if not signals:
        return f"No sign of change across {count_phrase(n, 'observation')} ({chart}: {rule})."
    first = signals[0] + 1
    return (
        f"Worth a conversation: from observation {first} of {n} the {chart} went beyond "
        f"its usual range ({rule}); {count_phrase(len(signals), 'observation')} beyond it "
        "in all."
    )


def ewma(
    x: Sequence[float] | npt.ArrayLike,
    *,
    target: float,
    sigma: float,
    lam: float = 0.2,
    L: float = 3.0,  # the letter every textbook uses for the limit width
    direction: Direction = "lower",
) -> Ewma:
    """Exponentially weighted moving average chart with exact time-varying limits."""
    _check_direction(direction)
    if not sigma > 0:
        raise ValueError("sigma must be positive")
    if not 0 < lam <= 1:
        raise ValueError("lam must be in (0, 1]")
    arr = _series(x)
    n = len(arr)
    z = np.empty(n)
    prev = target
    for t, value in enumerate(arr):
        prev = lam * value + (1 - lam) * prev
        z[t] = prev
    steps = np.arange(1, n + 1)
    width = L * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    upper, lower = target + width, target - width
    beyond = np.zeros(n, dtype=bool)
    if direction in ("lower", "both"):
        beyond |= z < lower
    if direction in ("upper", "both"):
        beyond |= z > upper
    signals = tuple(int(i) for i in np.flatnonzero(beyond))
    side = {"lower": "below", "upper": "above", "both": "outside"}[direction]
    rule = (
        f"a running average weighting recent observations by {number(lam, 2)}, "
        f"{side} {number(L, 1)} times the usual variation from {number(target, 2)}"
    )
    return Ewma(
        z=_frozen(z),
        upper=_frozen(upper),
        lower=_frozen(lower),
        signals=signals,
        first_signal=signals[0] if signals else None,
        target=target,
        sigma=sigma,
        lam=lam,
        L=L,
        summary=_signal_summary("running average", rule, signals, n),
    )


def cusum(
    x: Sequence[float] | npt.ArrayLike,
    *,
    target: float,
    sigma: float,
    k: float = 0.5,
    h: float = 5.0,
    direction: Direction = "lower",
) -> Cusum:
    """Tabular CUSUM: running totals of departures beyond ``k`` sigma; signal above ``h``
    sigma. ``upper`` accumulates rises, ``lower`` falls (both kept >= 0)."""
    _check_direction(direction)
    if not sigma > 0:
        raise ValueError("sigma must be positive")
    arr = _series(x)
    n = len(arr)
    c_up, c_down = np.empty(n), np.empty(n)
    up = down = 0.0
    for t, value in enumerate(arr):
        up = max(0.0, value - (target + k * sigma) + up)
        down = max(0.0, (target - k * sigma) - value + down)
        c_up[t], c_down[t] = up, down
    limit = h * sigma
    beyond = np.zeros(n, dtype=bool)
    if direction in ("lower", "both"):
        beyond |= c_down > limit
    if direction in ("upper", "both"):
        beyond |= c_up > limit
    signals = tuple(int(i) for i in np.flatnonzero(beyond))
    side = {"lower": "falls", "upper": "rises", "both": "changes"}[direction]
    rule = (
        f"running total of {side} bigger than {number(k, 2)} times the usual variation "
        f"passed {number(h, 1)} times the usual variation"
    )
    return Cusum(
        upper=_frozen(c_up),
        lower=_frozen(c_down),
        signals=signals,
        first_signal=signals[0] if signals else None,
        k=k,
        h=h,
        summary=_signal_summary("running total", rule, signals, n),
    )


def robust_baseline(
    x: Sequence[float] | npt.ArrayLike, *, min_sigma: float | None = None
) -> tuple[float, float]:
    """Mean and a robust sigma of a baseline series.

    Sigma is the median moving range / 0.954: short-term variation between neighbouring
    observations, so a drift or a step inside the baseline does not inflate it (as the
    overall standard deviation would), and one wild day does not either (as the mean
    moving range / 1.128 would). Rating scales give many repeated values, so when the
    median moving range is 0 the mean moving range / 1.128 is used, then the standard
    deviation. Sigma is never 0: it is floored at ``min_sigma`` (default 1% of the
    mean's size, at least 0.01) so a perfectly steady baseline does not turn every
    later wobble into an alert.
    """
    arr = _series(x)
    if len(arr) < 2:
        raise ValueError("a baseline needs at least 2 observations")
    mean = float(arr.mean())
    moving_range = np.abs(np.diff(arr))
    sigma = float(np.median(moving_range)) / MEDIAN_MOVING_RANGE_CONSTANT
    if sigma == 0:
        sigma = float(moving_range.mean()) / D2_MEAN_MOVING_RANGE
    if sigma == 0:
        sigma = float(arr.std(ddof=1))
    floor = min_sigma if min_sigma is not None else 0.01 * max(1.0, abs(mean))
    return mean, max(sigma, floor)
