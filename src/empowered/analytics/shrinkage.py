"""Small counts pulled toward a sensible usual value (empirical Bayes shrinkage).

"2 out of 2 = 100%" must never top a list of strategies: a rate resting on two uses says
little, so it is pulled toward the child's (or school's) usual rate, and a rate resting
on twenty uses is pulled much less.

- Rates: a beta-binomial prior fitted to all the groups by marginal maximum likelihood
  (method-of-moments start). With no sign that groups differ more than chance allows, or
  fewer than 3 groups, the prior falls back to the pooled rate with a stated strength of
  ``FALLBACK_STRENGTH`` pseudo-observations rather than an infinitely strong one that
  would erase every group's own evidence.
- Means: normal-normal shrinkage with the between-group variance estimated by
  DerSimonian-Laird, each mean pulled toward the precision-weighted grand mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from empowered.analytics.wording import count_phrase, number, percent, percent_range

MIN_GROUPS = 3
# Worth this many observations at the pooled rate when the data cannot fit a prior.
FALLBACK_STRENGTH = 10.0
# Beyond this the fitted groups are indistinguishable from one common rate.
MAX_STRENGTH = 1e4
# A rate or mean from fewer observations is described, not quoted as a number.
MIN_OBSERVATIONS = 5

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BetaPrior:
    alpha: float
    beta: float
    mean: float
    strength: float
    # Filled in by ``fit_beta_prior``; defaults let callers build a prior by hand.
    fitted: bool = False
    groups: int = 0
    summary: str = ""

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError(f"alpha and beta must be positive, got {self.alpha}, {self.beta}")

    @classmethod
    def from_mean(cls, mean: float, strength: float = FALLBACK_STRENGTH) -> BetaPrior:
        """A prior centred on ``mean`` worth ``strength`` observations."""
        return cls(mean * strength, (1 - mean) * strength, mean, strength)


@dataclass(frozen=True)
class ShrunkRate:
    successes: int
    trials: int
    raw: float
    estimate: float
    low: float
    high: float
    prior_mean: float
    summary: str


@dataclass(frozen=True)
class ShrunkMean:
    raw: float
    se: float
    estimate: float
    low: float
    high: float
    n: int
    summary: str


def _fallback(total_s: float, total_n: float, groups: int, why: str) -> BetaPrior:
    # Half a success and half a failure keep the mean inside (0, 1) when every group is
    # all-or-nothing; with real volumes it is the pooled rate.
    mean = (total_s + 0.5) / (total_n + 1.0)
    prior = BetaPrior.from_mean(mean, FALLBACK_STRENGTH)
    summary = (
        f"Usual rate about {percent(mean)} across {count_phrase(groups, 'group')} "
        f"({why}), counted as worth {number(FALLBACK_STRENGTH, 0)} observations."
    )
    return BetaPrior(prior.alpha, prior.beta, mean, FALLBACK_STRENGTH, False, groups, summary)


def fit_beta_prior(
    successes: Sequence[int] | npt.ArrayLike, trials: Sequence[int] | npt.ArrayLike
) -> BetaPrior:
    """Empirical-Bayes beta prior for per-group success rates (marginal likelihood)."""
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy.optimize import minimize
    from scipy.stats import betabinom

    s = np.asarray(successes, dtype=np.float64).ravel()
    n = np.asarray(trials, dtype=np.float64).ravel()
    if s.shape != n.shape:
        raise ValueError("successes and trials must have the same length")
    if np.any(n < 0) or np.any(s < 0) or np.any(s > n):
        raise ValueError("need 0 <= successes <= trials for every group")
    keep = n > 0
    s, n = s[keep], n[keep]
    groups = len(n)
    if groups < MIN_GROUPS:
        return _fallback(s.sum(), n.sum(), groups, "too few groups to learn how they vary")

    # Method of moments: how much more the group rates vary than binomial chance allows.
    mu = s.sum() / n.sum()
    if mu <= 0 or mu >= 1:
        return _fallback(s.sum(), n.sum(), groups, "every group had the same outcome")
    p = s / n
    between = float(np.sum(n * (p - mu) ** 2)) / (groups - 1)
    chance = mu * (1 - mu)
    # Intra-class correlation rho = 1 / (strength + 1); n_bar adjusts for group sizes.
    n_bar = (n.sum() - np.sum(n**2) / n.sum()) / (groups - 1)
    rho = (between - chance) / (chance * (n_bar - 1)) if n_bar > 1 else 0.0
    if not rho > 0:
        return _fallback(s.sum(), n.sum(), groups, "groups vary no more than chance")
    strength0 = min(max(1 / rho - 1, 0.1), MAX_STRENGTH)

    def neg_loglik(theta: FloatArray) -> float:
        # Capped so a search wandering toward "no over-dispersion" cannot overflow.
        a, b = math.exp(min(theta[0], 25.0)), math.exp(min(theta[1], 25.0))
        return -float(np.sum(betabinom.logpmf(s, n, a, b)))

    start = np.log([mu * strength0, (1 - mu) * strength0])
    fit = minimize(
        neg_loglik,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
    )
    a_hat, b_hat = (float(v) for v in np.exp(fit.x))
    strength = a_hat + b_hat
    if not (fit.success and math.isfinite(strength)) or strength > MAX_STRENGTH:
        return _fallback(s.sum(), n.sum(), groups, "groups vary no more than chance")
    mean = a_hat / strength
    summary = (
        f"Usual rate about {percent(mean)} across {count_phrase(groups, 'group')}, "
        f"counted as worth {number(strength)} observations when a group has little data."
    )
    return BetaPrior(a_hat, b_hat, mean, strength, True, groups, summary)


def shrink_rate(
    successes: int, trials: int, prior: BetaPrior, confidence: float = 0.95
) -> ShrunkRate:
    """Posterior mean and equal-tailed interval of one group's rate under ``prior``."""
    from scipy.stats import beta as beta_dist

    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    a = prior.alpha + successes
    b = prior.beta + trials - successes
    estimate = a / (a + b)
    tail = (1 - confidence) / 2
    low, high = (float(v) for v in beta_dist.ppf([tail, 1 - tail], a, b))
    raw = successes / trials if trials else math.nan
    usual = f"the usual {percent(prior.mean)}"
    if trials == 0:
        summary = f"No observations yet; nothing to go on beyond {usual}."
    elif trials < MIN_OBSERVATIONS:
        summary = (
            f"{successes} of {count_phrase(trials, 'time')}: too few to judge on their own "
            f"(at least {MIN_OBSERVATIONS} are needed); the best guess is still close to "
            f"{usual}."
        )
    else:
        summary = (
            f"About {percent(estimate)} ({percent_range(low, high)}), from {successes} of "
            f"{count_phrase(trials, 'time')}, allowing for {usual}."
        )
    return ShrunkRate(successes, trials, raw, estimate, low, high, prior.mean, summary)


def dersimonian_laird(
    means: Sequence[float] | npt.ArrayLike, ses: Sequence[float] | npt.ArrayLike
) -> float:
    """Between-group variance tau^2 by DerSimonian-Laird's moment estimator (>= 0)."""
    y = np.asarray(means, dtype=np.float64).ravel()
    v = np.asarray(ses, dtype=np.float64).ravel() ** 2
    if len(y) < 2:
        return 0.0
    w = 1 / v
    mu_fixed = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu_fixed) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (len(y) - 1)) / c)


def _mean_summary(
    raw: float,
    estimate: float,
    low: float,
    high: float,
    n: int,
    allowing: str = "how other groups compare",
) -> str:
    if n < MIN_OBSERVATIONS:
        return (
            f"Only {count_phrase(n, 'observation')}: too few to judge on their own "
            f"(at least {MIN_OBSERVATIONS} are needed)."
        )
    return (
        f"Average about {number(estimate)} (likely {number(low)} to {number(high)}), "
        f"from {count_phrase(n, 'observation')} averaging {number(raw)}"
        + (f", allowing for {allowing}." if allowing else ".")
    )


def shrink_means(
    means: Sequence[float] | npt.ArrayLike,
    ses: Sequence[float] | npt.ArrayLike,
    ns: Sequence[int] | npt.ArrayLike,
    confidence: float = 0.95,
) -> list[ShrunkMean]:
    """Each group's mean pulled toward the precision-weighted grand mean.

    The shrinkage factor is ``se^2 / (se^2 + tau^2)`` with tau^2 by DerSimonian-Laird; the
    interval adds the uncertainty of the grand mean itself, so it never collapses to a
    point when tau^2 is 0.
    """
    from scipy.stats import norm

    y = np.asarray(means, dtype=np.float64).ravel()
    se = np.asarray(ses, dtype=np.float64).ravel()
    counts = np.asarray(ns).ravel()
    if not (len(y) == len(se) == len(counts)):
        raise ValueError("means, ses and ns must have the same length")
    if np.any(~np.isfinite(y)) or np.any(~(se > 0)) or np.any(~np.isfinite(se)):
        raise ValueError("means must be finite and standard errors positive and finite")
    z = float(norm.ppf(0.5 + confidence / 2))
    if len(y) == 0:
        return []
    if len(y) == 1:
        est, s = float(y[0]), float(se[0])
        n0 = int(counts[0])
        return [
            ShrunkMean(
                est,
                s,
                est,
                est - z * s,
                est + z * s,
                n0,
                _mean_summary(est, est, est - z * s, est + z * s, n0, allowing=""),
            )
        ]
    tau2 = dersimonian_laird(y, se)
    v = se**2
    w = 1 / (v + tau2)
    grand = float(np.sum(w * y) / np.sum(w))
    var_grand = float(1 / np.sum(w))
    shrink = v / (v + tau2)
    est_all = shrink * grand + (1 - shrink) * y
    var_all = (1 - shrink) * v + shrink**2 * var_grand
    out = []
    for i in range(len(y)):
        half = z * math.sqrt(float(var_all[i]))
        est = float(est_all[i])
        n_i = int(counts[i])
        out.append(
            ShrunkMean(
                float(y[i]),
                float(se[i]),
                est,
                est - half,
                est + half,
                n_i,
                _mean_summary(float(y[i]), est, est - half, est + half, n_i),
            )
        )
    return out


def shrink_mean(
    mean: float,
    se: float,
    n: int,
    prior_mean: float,
    prior_sd: float,
    confidence: float = 0.95,
) -> ShrunkMean:
    """One group's mean combined with a normal prior (precision-weighted average)."""
    from scipy.stats import norm

    if not (se > 0 and prior_sd > 0):
        raise ValueError("se and prior_sd must be positive")
    precision = 1 / se**2 + 1 / prior_sd**2
    estimate = (mean / se**2 + prior_mean / prior_sd**2) / precision
    half = float(norm.ppf(0.5 + confidence / 2)) / math.sqrt(precision)
    low, high = estimate - half, estimate + half
    summary = _mean_summary(mean, estimate, low, high, n, allowing="the usual level")
    return ShrunkMean(mean, se, estimate, low, high, n, summary)
