"""Sharpe ratios, the Deflated Sharpe Ratio and the Probability of Backtest Overfitting (CSCV)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from newsbt.core.errors import NewsbtError
from newsbt.sweep.overfit import (
    deflated_sharpe,
    deflated_sharpe_from_trials,
    expected_max_sharpe,
    probabilistic_sharpe,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)

EULER_GAMMA = 0.5772156649015329


def noise(seed: int, n_obs: int = 1000, n_trials: int = 50) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.01, size=(n_obs, n_trials))


def with_dominant_trial(seed: int) -> np.ndarray:
    """Noise plus one trial with a real daily drift of 0.2 standard deviations (annualised SR ~ 3.2)."""
    returns = noise(seed)
    returns[:, 7] += 0.002
    return returns


# --- Sharpe ratio ----------------------------------------------------------------------------------


def test_sharpe_ratio_per_period_and_annualised():
    r = np.array([0.01, -0.02, 0.03, 0.0])
    expected = r.mean() / math.sqrt(((r - r.mean()) ** 2).sum() / 3)
    assert sharpe_ratio(r) == pytest.approx(expected, rel=1e-12)
    matrix = np.column_stack([r, 2 * r, -r])
    np.testing.assert_allclose(sharpe_ratio(matrix), [expected, expected, -expected], rtol=1e-12)
    np.testing.assert_allclose(sharpe_ratio(matrix.T, axis=1), [expected, expected, -expected], rtol=1e-12)


def test_sharpe_ratio_of_zero_variance_series():
    assert sharpe_ratio([0.0, 0.0, 0.0]) == 0.0
    assert sharpe_ratio([0.5, 0.5]) == math.inf
    assert sharpe_ratio([0.1, 0.1, 0.1]) == math.inf  # the rounded mean must not leave a tiny deviation
    assert sharpe_ratio([-0.5, -0.5]) == -math.inf


def test_sharpe_ratio_needs_two_returns():
    with pytest.raises(NewsbtError, match="at least 2 returns"):
        sharpe_ratio([0.01])


# --- Deflated Sharpe Ratio -------------------------------------------------------------------------


def test_expected_max_sharpe_formula():
    n, variance = 10, 0.01
    expected = math.sqrt(variance) * (
        (1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))
    )
    assert expected_max_sharpe(n, variance) == pytest.approx(expected, rel=1e-12)
    assert expected_max_sharpe(10, 0.0) == 0.0
    assert expected_max_sharpe(1000, 0.01) > expected_max_sharpe(100, 0.01) > expected_max_sharpe(10, 0.01)


def test_probabilistic_sharpe_formula():
    sr, sr0, t, skew, kurt = 0.1, 0.05, 250, -0.5, 4.0
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert probabilistic_sharpe(sr, sr0, t, skew, kurt) == pytest.approx(norm.cdf(z), rel=1e-12)
    assert probabilistic_sharpe(0.05, 0.05, 250, 0.0, 3.0) == pytest.approx(0.5)


def test_paper_example():
    """Bailey & López de Prado (2014), section 6: SR 2.5 a year, 5 years of daily data, 100 trials with
    annualised V[SR] = 1/2, skewness -3, kurtosis 10 -> SR0 ~ 0.1132 a day and DSR ~ 0.9004."""
    days = 250
    sr0 = expected_max_sharpe(100, 0.5 / days)
    assert sr0 == pytest.approx(0.1132, abs=1e-4)
    dsr = probabilistic_sharpe(2.5 / math.sqrt(days), sr0, 5 * days, -3.0, 10.0)
    assert dsr == pytest.approx(0.9004, abs=1e-3)


def test_deflated_sharpe_step_by_step():
    returns = np.array(
        [
            [0.02, 0.01, -0.01],
            [-0.01, 0.00, 0.02],
            [0.03, 0.02, 0.00],
            [0.00, -0.01, -0.02],
            [0.04, 0.01, 0.01],
            [-0.02, 0.00, 0.00],
        ]
    )
    t, n = returns.shape
    means = returns.sum(axis=0) / t
    stds = np.sqrt(((returns - means) ** 2).sum(axis=0) / (t - 1))
    srs = means / stds
    best = int(np.argmax(srs))
    variance = ((srs - srs.mean()) ** 2).sum() / (n - 1)
    sr0 = math.sqrt(variance) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e)))
    x = returns[:, best] - means[best]
    m2, m3, m4 = (np.mean(x**k) for k in (2, 3, 4))
    skew, kurt = m3 / m2**1.5, m4 / m2**2
    sr = srs[best]
    dsr = norm.cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))

    result = deflated_sharpe(returns)
    assert result.selected == best == 1
    assert (result.n_trials, result.n_obs) == (n, t)
    for got, want in [(result.sharpe, sr), (result.sharpe_variance, variance), (result.sr0, sr0),
                      (result.skew, skew), (result.kurtosis, kurt), (result.dsr, dsr)]:  # fmt: skip
        assert got == pytest.approx(want, rel=1e-10)
    from_trials = deflated_sharpe_from_trials(returns[:, best], srs)
    assert from_trials.dsr == pytest.approx(dsr, rel=1e-10)
    assert from_trials.selected is None
    assert deflated_sharpe(returns, selected=0).sharpe == pytest.approx(srs[0], rel=1e-12)


def test_pure_noise_has_an_unremarkable_dsr():
    """The best of N noise trials sits near the expected maximum SR0, so its DSR centres on 1/2."""
    results = [deflated_sharpe(noise(seed)) for seed in range(6)]
    assert all(r.dsr < 0.9 for r in results)
    assert np.mean([r.dsr for r in results]) < 0.7
    assert all(r.sr0 > 0.05 for r in results)  # ~ 2.25 standard errors of 1/sqrt(1000)


def test_a_dominant_trial_has_a_high_dsr():
    for seed in range(3):
        result = deflated_sharpe(with_dominant_trial(seed))
        assert result.selected == 7
        assert result.dsr > 0.95


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        (np.zeros((10, 1)), "at least 2 trials"),
        (np.zeros((1, 3)), "at least 2 periods"),
        (np.zeros(10), "2-dimensional"),
        (np.array([[0.1, np.nan], [0.2, 0.1], [0.0, 0.3]]), r"non-finite value at index \(0, 1\)"),
        (np.array([[0.1, 0.2], [0.1, 0.1], [0.1, 0.0]]), "trial 0 has constant non-zero returns"),
    ],
)
def test_deflated_sharpe_refuses_bad_matrices(returns, message):
    with pytest.raises(NewsbtError, match=message):
        deflated_sharpe(returns)


def test_deflated_sharpe_refuses_bad_selection_and_inputs():
    returns = noise(0, n_obs=20, n_trials=3)
    with pytest.raises(NewsbtError, match="out of range"):
        deflated_sharpe(returns, selected=3)
    with pytest.raises(NewsbtError, match="zero variance"):
        deflated_sharpe_from_trials(np.zeros(20), [0.1, 0.2])
    with pytest.raises(NewsbtError, match="at least 2 trials"):
        deflated_sharpe_from_trials(returns[:, 0], [0.1])
    with pytest.raises(NewsbtError, match="at least 2 observations"):
        probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0)
    with pytest.raises(NewsbtError, match="standard error is undefined"):
        probabilistic_sharpe(1.0, 0.0, 10, 2.0, 1.0)


# --- Probability of Backtest Overfitting -----------------------------------------------------------


def hand_matrix() -> np.ndarray:
    """4 blocks of 2 rows, 3 trials; each block is (mean + 1, mean - 1).

    Block means: trial 0 (3, 3, -1, -1), trial 1 (-1, -1, 3, 3), trial 2 (1, 1, 1, 1).
    Over any 2 blocks, the sample deviation is sqrt(4/3) when both blocks share a mean and sqrt(20/3)
    when the means are 3 and -1, so the Sharpe ratios of a half are:
    trial 0: 3/sqrt(4/3) on blocks {0,1}, -1/sqrt(4/3) on {2,3}, 1/sqrt(20/3) on a mixed half;
    trial 1: the mirror image; trial 2: 1/sqrt(4/3) on every half.
    """
    block_means = np.array([[3, -1, 1], [3, -1, 1], [-1, 3, 1], [-1, 3, 1]], dtype=float)
    return np.repeat(block_means, 2, axis=0) + np.tile([[1.0], [-1.0]], (4, 3))


def test_pbo_hand_worked_four_blocks_three_trials():
    """Splits in order: IS {0,1}: trial 0 wins (3/sqrt(4/3)) and is last OOS -> ω = 1/4, λ = ln(1/3).
    IS {0,2}, {0,3}, {1,2}, {1,3}: trial 2 wins (1/sqrt(4/3) > 1/sqrt(20/3)) and is first OOS -> ω = 3/4,
    λ = ln 3. IS {2,3}: trial 1 wins and is last OOS -> ln(1/3). PBO = 2/6."""
    result = probability_of_backtest_overfitting(hand_matrix(), n_blocks=4)
    good, mixed = 1 / math.sqrt(4 / 3), 1 / math.sqrt(20 / 3)
    np.testing.assert_allclose(result.logits, np.log([1 / 3, 3, 3, 3, 3, 1 / 3]), rtol=1e-12)
    assert result.pbo == pytest.approx(1 / 3, abs=1e-15)
    assert result.selected.tolist() == [0, 2, 2, 2, 2, 1]
    np.testing.assert_allclose(result.is_sharpe, [3 * good, good, good, good, good, 3 * good], rtol=1e-12)
    np.testing.assert_allclose(result.oos_sharpe, [-good, good, good, good, good, -good], rtol=1e-12)
    assert (result.n_blocks, result.n_splits, result.n_trials, result.n_obs) == (4, 6, 3, 8)
    assert mixed < good


def test_pbo_ties_are_deterministic():
    """Identical trials: the lowest column wins in-sample and shares the average OOS rank (N + 1)/2, so
    ω = 1/2, λ = 0 and every split counts as overfit."""
    column = np.random.default_rng(5).normal(size=(40, 1))
    result = probability_of_backtest_overfitting(np.repeat(column, 3, axis=1), n_blocks=6)
    assert result.selected.tolist() == [0] * math.comb(6, 3)
    assert np.all(result.logits == 0.0)
    assert result.pbo == 1.0


def test_pbo_keeps_every_row_with_unequal_blocks():
    """T = 9 in 4 blocks -> sizes 3, 2, 2, 2: the IS Sharpe over blocks {0, 1} uses rows 0..4."""
    returns = np.random.default_rng(1).normal(size=(9, 3))
    result = probability_of_backtest_overfitting(returns, n_blocks=4)
    expected = sharpe_ratio(returns[:5])
    assert result.is_sharpe[0] == pytest.approx(expected[result.selected[0]], rel=1e-10)
    assert result.selected[0] == int(np.argmax(expected))


def naive_pbo(returns: np.ndarray, n_blocks: int) -> tuple[np.ndarray, float]:
    """Straight from the paper: loop over splits, concatenate rows, rank with average ties."""
    blocks = np.array_split(np.arange(len(returns)), n_blocks)
    n = returns.shape[1]
    logits = []
    for in_sample in itertools.combinations(range(n_blocks), n_blocks // 2):
        is_rows = np.concatenate([blocks[b] for b in in_sample])
        oos_rows = np.concatenate([blocks[b] for b in range(n_blocks) if b not in in_sample])
        is_sr = returns[is_rows].mean(0) / returns[is_rows].std(0, ddof=1)
        oos_sr = returns[oos_rows].mean(0) / returns[oos_rows].std(0, ddof=1)
        best = int(np.argmax(is_sr))
        rank = 1 + np.sum(oos_sr < oos_sr[best])
        logits.append(math.log(rank / (n + 1) / (1 - rank / (n + 1))))
    logits = np.array(logits)
    return logits, float(np.mean(logits <= 0))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 60), st.integers(2, 7), st.sampled_from([2, 4, 6, 8]))
def test_pbo_matches_the_naive_algorithm(seed, n_obs, n_trials, n_blocks):
    rng = np.random.default_rng(seed)
    returns = rng.normal(rng.normal(0, 0.3, n_trials), 1.0, size=(n_obs, n_trials))
    logits, pbo = naive_pbo(returns, n_blocks)
    result = probability_of_backtest_overfitting(returns, n_blocks=n_blocks)
    np.testing.assert_allclose(result.logits, logits, rtol=1e-12, atol=1e-12)
    assert result.pbo == pbo


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 100))
def test_pbo_is_invariant_to_scale_and_column_order(seed, scale):
    rng = np.random.default_rng(seed)
    returns = rng.normal(size=(48, 5))
    base = probability_of_backtest_overfitting(returns, n_blocks=6)
    scaled = probability_of_backtest_overfitting(returns * scale, n_blocks=6)
    order = rng.permutation(5)
    permuted = probability_of_backtest_overfitting(returns[:, order], n_blocks=6)
    np.testing.assert_array_equal(scaled.logits, base.logits)
    np.testing.assert_array_equal(permuted.logits, base.logits)
    np.testing.assert_array_equal(order[permuted.selected], base.selected)


def test_pbo_of_pure_noise_is_near_one_half():
    """With no skill, the in-sample winner's OOS rank is uniform: PBO scatters around 1/2 from one
    data set to the next, so average a few."""
    pbos = [probability_of_backtest_overfitting(noise(seed)).pbo for seed in range(6)]
    assert 0.35 <= np.mean(pbos) <= 0.65


def test_pbo_with_a_dominant_trial_is_near_zero():
    for seed in range(3):
        result = probability_of_backtest_overfitting(with_dominant_trial(seed))
        assert result.pbo < 0.1
        assert result.n_splits == math.comb(16, 8)
        assert np.mean(result.selected == 7) > 0.95


def test_pbo_handles_a_trial_that_never_traded():
    returns = noise(3, n_obs=100, n_trials=4)
    returns[:, 2] = 0.0
    result = probability_of_backtest_overfitting(returns, n_blocks=4)
    assert np.all(np.isfinite(result.logits))


def test_pbo_result_arrays_are_read_only():
    result = probability_of_backtest_overfitting(hand_matrix(), n_blocks=4)
    with pytest.raises(ValueError):
        result.logits[0] = 1.0


@pytest.mark.parametrize(
    ("shape", "n_blocks", "message"),
    [
        ((100, 1), 4, "at least 2 trials"),
        ((100, 3), 5, "even integer"),
        ((100, 3), 0, "even integer"),
        ((100, 3), 4.0, "even integer"),
        ((100, 3), 22, "at most 20 blocks"),
        ((10, 3), 12, "cannot be split into 12 blocks"),
        ((3, 3), 2, "cannot be split"),
    ],
)
def test_pbo_refuses_bad_inputs(shape, n_blocks, message):
    with pytest.raises(NewsbtError, match=message):
        probability_of_backtest_overfitting(np.random.default_rng(0).normal(size=shape), n_blocks=n_blocks)


def test_pbo_refuses_non_finite_returns():
    returns = np.zeros((20, 3))
    returns[4, 1] = np.inf
    with pytest.raises(NewsbtError, match=r"non-finite value at index \(4, 1\)"):
        probability_of_backtest_overfitting(returns, n_blocks=4)


def test_skewness_and_kurtosis_are_scipys():
    from scipy import stats

    from newsbt.sweep.overfit import _skew_kurtosis

    r = np.random.default_rng(3).standard_t(4, 1500) * 0.01 + 0.0004
    skew, kurtosis = _skew_kurtosis(r)
    assert skew == pytest.approx(stats.skew(r), rel=1e-12)
    assert kurtosis == pytest.approx(stats.kurtosis(r, fisher=False), rel=1e-12)
