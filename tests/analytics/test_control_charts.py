from __future__ import annotations

import math

import numpy as np
import pytest

from empowered.analytics.control_charts import cusum, ewma, robust_baseline


def ewma_loop(x: list[float], target: float, sigma: float, lam: float, width: float):
    z, upper, lower, prev = [], [], [], target
    for t, value in enumerate(x, start=1):
        prev = lam * value + (1 - lam) * prev
        half = width * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        z.append(prev)
        upper.append(target + half)
        lower.append(target - half)
    return z, upper, lower


def test_ewma_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(4)
    x = list(rng.normal(5, 2, 40))
    res = ewma(x, target=5.0, sigma=2.0, lam=0.25, L=2.8, direction="both")
    z, upper, lower = ewma_loop(x, 5.0, 2.0, 0.25, 2.8)
    np.testing.assert_allclose(res.z, z, rtol=1e-12)
    np.testing.assert_allclose(res.upper, upper, rtol=1e-12)
    np.testing.assert_allclose(res.lower, lower, rtol=1e-12)
    expected = [t for t in range(40) if z[t] > upper[t] or z[t] < lower[t]]
    assert list(res.signals) == expected


def test_ewma_limits_match_montgomery_example() -> None:
    # Montgomery, Introduction to Statistical Quality Control, EWMA chart example with
    # target 10, sigma 1, lam = 0.1, L = 2.7: limits 10.27 / 9.73 at period 1, 10.36 / 9.64
    # at period 2, 10.42 / 9.58 at period 3, approaching 10.62 / 9.38.
    res = ewma([10.0] * 200, target=10.0, sigma=1.0, lam=0.1, L=2.7)
    np.testing.assert_allclose(res.upper[:3], [10.27, 10.36, 10.42], atol=0.005)
    np.testing.assert_allclose(res.lower[:3], [9.73, 9.64, 9.58], atol=0.005)
    assert res.upper[-1] == pytest.approx(10.62, abs=0.005)
    assert res.signals == () and res.first_signal is None


def test_ewma_finds_a_decline_and_only_in_the_watched_direction() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 30), rng.normal(-1.5, 1, 30)]
    low = ewma(x, target=0.0, sigma=1.0)
    assert low.first_signal is not None and 30 <= low.first_signal < 45
    assert all(low.z[i] < low.lower[i] for i in low.signals)
    assert "Worth a conversation" in low.summary
    assert f"from observation {low.first_signal + 1} of 60" in low.summary
    high = ewma(x, target=0.0, sigma=1.0, direction="upper")
    assert high.signals == ()
    assert "No sign of change across 60 observations" in high.summary
    with pytest.raises(ValueError):
        low.z[0] = 1.0  # results are read-only


def cusum_loop(x: list[float], target: float, sigma: float, k: float):
    up, down, c_up, c_down = [], [], 0.0, 0.0
    for value in x:
        c_up = max(0.0, value - (target + k * sigma) + c_up)
        c_down = max(0.0, (target - k * sigma) - value + c_down)
        up.append(c_up)
        down.append(c_down)
    return up, down


def test_cusum_matches_a_plain_loop_and_signals_a_drop() -> None:
    rng = np.random.default_rng(2)
    x = list(np.r_[rng.normal(10, 2, 25), rng.normal(8, 2, 25)])
    res = cusum(x, target=10.0, sigma=2.0, k=0.5, h=4.0)
    up, down = cusum_loop(x, 10.0, 2.0, 0.5)
    np.testing.assert_allclose(res.upper, up, rtol=1e-12)
    np.testing.assert_allclose(res.lower, down, rtol=1e-12)
    assert list(res.signals) == [t for t in range(50) if down[t] > 8.0]
    assert res.first_signal is not None and res.first_signal >= 25
    both = cusum(x, target=10.0, sigma=2.0, h=4.0, direction="both")
    assert set(res.signals) <= set(both.signals)


def test_cusum_quiet_series() -> None:
    res = cusum([10.0, 10.5, 9.5, 10.0], target=10.0, sigma=1.0)
    assert res.signals == () and res.first_signal is None
    assert "No sign of change across 4 observations" in res.summary


def test_robust_baseline_estimates_sigma_and_resists_a_step() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(50, 3, 2000)
    mean, sigma = robust_baseline(noise)
    assert mean == pytest.approx(noise.mean())
    assert sigma == pytest.approx(3, rel=0.1)
    stepped = noise + np.r_[np.zeros(1000), np.full(1000, 12.0)]
    _, sigma_step = robust_baseline(stepped)
    assert sigma_step == pytest.approx(3, rel=0.1)  # the standard deviation would be ~6.7
    assert stepped.std() > 6


def test_robust_baseline_on_rating_scales_and_constant_series() -> None:
    # Mostly repeated ratings: the median moving range is 0, the mean one is not.
    ratings = [3, 3, 3, 4, 3, 3, 2, 3, 3, 3]
    _, sigma = robust_baseline(ratings)
    moving = np.abs(np.diff(ratings))
    assert sigma == pytest.approx(moving.mean() / 1.128)
    _, floor = robust_baseline([3, 3, 3, 3])
    assert floor == pytest.approx(0.03)
    _, custom = robust_baseline([3, 3, 3], min_sigma=0.5)
    assert custom == 0.5
    with pytest.raises(ValueError):
        robust_baseline([3.0])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        ewma([1.0], target=0.0, sigma=0.0)
    with pytest.raises(ValueError):
        ewma([1.0], target=0.0, sigma=1.0, lam=0.0)
    with pytest.raises(ValueError):
        cusum([1.0, math.nan], target=0.0, sigma=1.0)
    with pytest.raises(ValueError):
        cusum([1.0], target=0.0, sigma=1.0, direction="down")  # type: ignore[arg-type]
