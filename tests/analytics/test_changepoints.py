from __future__ import annotations

import math

import numpy as np
import pytest

from empowered.analytics.changepoints import default_penalty, mean_shifts
from empowered.analytics.control_charts import robust_baseline


def test_a_known_step_is_recovered_within_a_few_points() -> None:
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(3.0, 1.0, 40), rng.normal(1.5, 1.0, 40)]
    shifts = mean_shifts(x)
    assert len(shifts) == 1
    shift = shifts[0]
    assert abs(shift.index - 40) <= 3
    assert shift.mean_before == pytest.approx(x[: shift.index].mean())
    assert shift.mean_after == pytest.approx(x[shift.index :].mean())
    assert shift.mean_after < shift.mean_before
    assert f"Around observation {shift.index + 1} of 80 the average fell" in shift.summary
    assert "observations before" in shift.summary


def test_two_steps_are_both_found_in_order() -> None:
    rng = np.random.default_rng(6)
    x = np.r_[rng.normal(0, 1, 30), rng.normal(3, 1, 30), rng.normal(0, 1, 30)]
    shifts = mean_shifts(x)
    assert [s.index for s in shifts] == pytest.approx([30, 60], abs=3)
    assert shifts[0].mean_after > shifts[0].mean_before
    assert shifts[1].mean_after < shifts[1].mean_before


def test_pure_noise_gives_no_shift() -> None:
    rng = np.random.default_rng(2)
    assert mean_shifts(rng.normal(4, 1, 60)) == []


@pytest.mark.slow
def test_false_shift_rate_on_noise_is_low() -> None:
    # With the BIC-like default, about 1 noise series in 8 of length 60 shows a spurious
    # shift (0.12 over 300 seeds when written); rating-scale data fare better.
    false = 0
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        false += bool(mean_shifts(rng.normal(0, 1, 60)))
    assert false / 100 < 0.2


def test_default_penalty_and_min_size() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, 50)
    _, sigma = robust_baseline(x)
    assert default_penalty(x) == pytest.approx(2 * sigma**2 * math.log(50))
    assert mean_shifts([1.0] * 9) == []  # shorter than two segments of 5
    step = [0.0] * 6 + [10.0] * 6
    assert [s.index for s in mean_shifts(step)] == [6]
    assert mean_shifts(step, min_size=7) == []
    assert mean_shifts(step, penalty=1e9) == []


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        mean_shifts([1.0, math.nan] * 10)
    with pytest.raises(ValueError):
        mean_shifts([1.0] * 20, min_size=1)
