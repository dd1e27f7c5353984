from __future__ import annotations

import numpy as np

from empowered.analytics.strategies import MIN_USES, UsePair, for_pupil, strategy_effects


def uses(pupil: str, code: str, changes: list[float], start: float = 2.0) -> list[UsePair]:
    return [
        UsePair(pupil, "100001", code, code.replace("_", " "), start, start + c) for c in changes
    ]


def trust(seed: int = 3) -> list[UsePair]:
    """40 children with three strategies each and no effect; one child with a real one."""
    rng = np.random.default_rng(seed)
    pairs: list[UsePair] = []
    for i in range(40):
        for code in ("movement_break", "quiet_space", "first_then"):
            pairs += uses(f"P{i:03d}", code, list(rng.normal(0.5, 0.8, 14).round()))
    pairs += uses("HELPED", "movement_break", list(rng.normal(2.3, 0.8, 20).round()))
    pairs += uses("HELPED", "quiet_space", list(rng.normal(0.5, 0.8, 12).round()))
    pairs += uses("HELPED", "first_then", list(rng.normal(0.5, 0.8, 12).round()))
    return pairs


def test_a_real_effect_stands_out_and_chance_differences_rarely_do() -> None:
    false = 0
    for seed in range(10):
        effects = strategy_effects(trust(seed))
        standing = {(e.pupil_key, e.strategy_code) for e in effects if e.stands_out}
        assert ("HELPED", "movement_break") in standing
        false += len(standing) - 1
    # 120 chance comparisons a trust, ten trusts: false discoveries stay a small share.
    assert false <= 3
    effects = strategy_effects(trust(0))
    best = for_pupil(effects, "HELPED")[0]
    assert best.strategy_code == "movement_break"
    assert best.nonoverlap is not None and best.nonoverlap.nap > 0.75
    assert "from 20 uses" in best.summary and "worth keeping in mind" in best.summary


def test_two_of_two_never_tops_fifteen_of_twenty() -> None:
    pairs = uses("A", "lucky", [1, 1]) + uses("A", "steady", [1] * 15 + [-1] * 5)
    pairs += uses("A", "other", [1, -1] * 5)
    results = strategy_effects(pairs)
    effects = {e.strategy_code: e for e in results}
    lucky = effects["lucky"].calmer_rate
    assert lucky.raw == 1.0
    # Pulled most of the way back to the child's usual rate, and listed after judged ones.
    assert lucky.estimate < 0.8
    assert abs(lucky.estimate - lucky.prior_mean) < abs(1.0 - lucky.estimate)
    assert [e.strategy_code for e in for_pupil(results, "A")][-1] == "lucky"


def test_too_few_uses_says_so_instead_of_a_number() -> None:
    pairs = uses("A", "new_strategy", [1, 1, 0]) + uses("A", "usual", [0, 1] * 8)
    effect = next(e for e in strategy_effects(pairs) if e.strategy_code == "new_strategy")
    assert effect.not_enough is not None
    assert effect.summary.startswith("Not enough yet to judge new strategy: 3 uses")
    assert f"at least {MIN_USES}" in effect.summary
    assert not effect.stands_out and effect.p_value is None


def test_a_child_is_compared_with_their_own_strategies_not_other_children() -> None:
    # Everyone else calms a lot after every strategy; this child improves more after one
    # strategy than after their others, and that is what counts.
    pairs = []
    for i in range(20):
        for code in ("a", "b"):
            pairs += uses(f"X{i}", code, [2.0] * 12)
    pairs += uses("ME", "a", [1.0] * 8 + [2.0] * 6) + uses("ME", "b", [0.0] * 7 + [-1.0] * 5)
    effects = {(e.pupil_key, e.strategy_code): e for e in strategy_effects(pairs)}
    assert effects[("ME", "a")].stands_out
    assert effects[("ME", "a")].child_rate < 0.6
