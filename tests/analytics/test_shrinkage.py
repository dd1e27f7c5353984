from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta, betabinom
from statsmodels.stats.meta_analysis import combine_effects

from empowered.analytics.shrinkage import (
    FALLBACK_STRENGTH,
    BetaPrior,
    dersimonian_laird,
    fit_beta_prior,
    shrink_mean,
    shrink_means,
    shrink_rate,
)
from empowered.analytics.wording import percent_range


def overdispersed_groups(seed: int, groups: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    trials = rng.integers(5, 40, size=groups)
    rates = rng.beta(6.0, 4.0, size=groups)
    return rng.binomial(trials, rates), trials


def test_mle_matches_a_brute_force_grid() -> None:
    successes, trials = overdispersed_groups(11)
    prior = fit_beta_prior(successes, trials)
    assert prior.fitted

    def loglik(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sum(
            betabinom.logpmf(
                successes[None, None, :], trials[None, None, :], a[..., None], b[..., None]
            ),
            axis=-1,
        )

    # Coarse grid over a wide box, then a fine one around its best cell.
    a_grid, b_grid = np.meshgrid(np.geomspace(0.2, 500, 300), np.geomspace(0.2, 500, 300))
    best = np.unravel_index(np.argmax(loglik(a_grid, b_grid)), a_grid.shape)
    a0, b0 = a_grid[best], b_grid[best]
    a_fine, b_fine = np.meshgrid(
        np.linspace(a0 * 0.9, a0 * 1.1, 201), np.linspace(b0 * 0.9, b0 * 1.1, 201)
    )
    ll = loglik(a_fine, b_fine)
    best = np.unravel_index(np.argmax(ll), ll.shape)
    assert prior.alpha == pytest.approx(a_fine[best], rel=0.01)
    assert prior.beta == pytest.approx(b_fine[best], rel=0.01)
    # The optimiser is at least as good as the best grid point.
    assert loglik(np.array(prior.alpha), np.array(prior.beta)) >= ll.max() - 1e-6
    assert prior.mean == pytest.approx(prior.alpha / (prior.alpha + prior.beta))
    assert prior.strength == pytest.approx(prior.alpha + prior.beta)


def test_too_few_groups_falls_back_to_pooled_rate_with_stated_strength() -> None:
    prior = fit_beta_prior([3, 5, 0], [4, 10, 0])  # the empty group does not count
    assert not prior.fitted
    assert prior.groups == 2
    assert prior.strength == FALLBACK_STRENGTH
    assert prior.mean == pytest.approx((8 + 0.5) / (14 + 1))
    assert "too few groups" in prior.summary


def test_no_overdispersion_falls_back_rather_than_an_infinite_prior() -> None:
    # Every group at exactly the pooled rate: no more variation than chance allows.
    prior = fit_beta_prior([5, 10, 15, 20], [10, 20, 30, 40])
    assert not prior.fitted
    assert prior.strength == FALLBACK_STRENGTH
    assert prior.mean == pytest.approx(0.5, abs=0.01)


def test_two_of_two_does_not_top_a_well_supported_fifteen_of_twenty() -> None:
    successes, trials = overdispersed_groups(5)
    for prior in (fit_beta_prior(successes, trials), BetaPrior.from_mean(0.5)):
        small = shrink_rate(2, 2, prior)
        large = shrink_rate(15, 20, prior)
        assert small.estimate < large.estimate
        assert small.raw == 1.0
        assert small.high - small.low > large.high - large.low


def test_shrink_rate_is_the_beta_posterior() -> None:
    prior = BetaPrior(alpha=3.0, beta=7.0, mean=0.3, strength=10.0)
    res = shrink_rate(6, 9, prior, confidence=0.9)
    assert res.estimate == pytest.approx(9 / 19)
    assert res.low == pytest.approx(beta.ppf(0.05, 9, 10))
    assert res.high == pytest.approx(beta.ppf(0.95, 9, 10))
    assert res.prior_mean == 0.3
    assert prior.mean < res.estimate < res.raw
    assert res.summary == (
        f"About 47% ({percent_range(res.low, res.high)}), from 6 of 9 times, allowing for "
        "the usual 30%."
    )


def test_shrink_rate_small_and_empty_counts_say_so() -> None:
    prior = BetaPrior.from_mean(0.4)
    assert "too few" in shrink_rate(2, 2, prior).summary
    assert "%" in shrink_rate(2, 2, prior).summary  # only the usual rate is quoted
    empty = shrink_rate(0, 0, prior)
    assert np.isnan(empty.raw) and empty.estimate == pytest.approx(0.4)
    assert "No observations yet" in empty.summary


def test_dersimonian_laird_matches_statsmodels() -> None:
    means = np.array([2.1, 3.4, 2.8, 4.0, 1.6, 3.1])
    ses = np.array([0.4, 0.5, 0.3, 0.8, 0.6, 0.35])
    ref = combine_effects(means, ses**2, method_re="dl")
    assert dersimonian_laird(means, ses) == pytest.approx(ref.tau2, rel=1e-10)
    shrunk = shrink_means(means, ses, [10, 8, 20, 4, 6, 15])
    # The grand mean they shrink toward is the random-effects mean.
    grand = ref.mean_effect_re
    for raw, res in zip(means, shrunk, strict=True):
        assert min(raw, grand) - 1e-12 <= res.estimate <= max(raw, grand) + 1e-12
        assert res.low < res.estimate < res.high
    # A noisier group is pulled further toward the grand mean.
    pull = [abs(r.estimate - r.raw) / abs(grand - r.raw) for r in shrunk]
    assert pull[3] > pull[2]
    assert "too few" in shrunk[3].summary and "from 20 observations" in shrunk[2].summary


def test_no_between_group_variance_pools_everything() -> None:
    means, ses = np.array([3.0, 3.1, 2.9]), np.array([1.0, 1.0, 1.0])
    assert dersimonian_laird(means, ses) == 0
    shrunk = shrink_means(means, ses, [10, 10, 10])
    assert all(r.estimate == pytest.approx(3.0) for r in shrunk)
    assert all(r.high - r.low > 0 for r in shrunk)


def test_a_single_group_is_left_as_it_is() -> None:
    (only,) = shrink_means([2.5], [0.5], [9])
    assert only.estimate == 2.5
    assert (only.low, only.high) == pytest.approx((2.5 - 1.959964 * 0.5, 2.5 + 1.959964 * 0.5))
    assert shrink_means([], [], []) == []


def test_shrink_mean_is_precision_weighted() -> None:
    res = shrink_mean(4.0, 1.0, 12, prior_mean=2.0, prior_sd=1.0)
    assert res.estimate == pytest.approx(3.0)
    assert res.high - res.low == pytest.approx(2 * 1.959964 / np.sqrt(2), rel=1e-5)
    assert res.summary.endswith("from 12 observations averaging 4, allowing for the usual level.")
    vague = shrink_mean(4.0, 1.0, 12, prior_mean=2.0, prior_sd=1e6)
    assert vague.estimate == pytest.approx(4.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        fit_beta_prior([3, 1], [2, 1])
    with pytest.raises(ValueError):
        BetaPrior(0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        shrink_means([1.0, 2.0], [0.0, 1.0], [3, 3])
