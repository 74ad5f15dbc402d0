"""Overfitting diagnostics for parameter sweeps: Sharpe ratios, the Deflated Sharpe Ratio (DSR) and
the Probability of Backtest Overfitting (PBO).

Inputs are period returns, one row per period and, for a sweep, one column per trial (parameter
combination), T x N. Sharpe ratios are per period, mean over sample standard deviation (ddof=1), no
risk-free rate, unless the name says annualised; DSR and PBO are defined on per-period ratios. A
series with zero variance has Sharpe 0 when its mean is 0 (a combination that never traded) and
+/-inf otherwise.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from threadpoolctl import threadpool_limits

from newsbt.core.errors import NewsbtError

TIE_RTOL = 1e-9  # Sharpe ratios this close count as tied, so duplicate trials tie whatever the summation order
MAX_BLOCKS = 20  # C(20, 10) = 184,756 splits
CHUNK_CELLS = 2_000_000  # splits x trials evaluated at once, to bound memory


@dataclass(frozen=True)
class DeflatedSharpe:
    """The DSR of a selected trial and its ingredients, all in per-period Sharpe units."""

    dsr: float
    sr0: float
    sharpe: float
    n_trials: int
    n_obs: int
    skew: float
    kurtosis: float
    sharpe_variance: float
    selected: int | None = None


@dataclass(frozen=True)
class BacktestOverfitting:
    """PBO by CSCV, with the per-split results (in split order) for plots.

    ``selected``, ``is_sharpe`` and ``oos_sharpe`` give, per split, the trial chosen in-sample and its
    in-sample and out-of-sample Sharpe ratios (the performance-degradation pairs).
    """

    pbo: float
    logits: np.ndarray
    selected: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    n_blocks: int
    n_splits: int
    n_trials: int
    n_obs: int


def sharpe_ratio(returns: ArrayLike, axis: int = 0) -> float | np.ndarray:
    """Per-period Sharpe ratio along ``axis`` (a float for one series, an array for a matrix)."""
    r = np.asarray(returns, dtype=float)
    if r.ndim == 0 or r.shape[axis] < 2:
        raise NewsbtError("a Sharpe ratio needs at least 2 returns")
    constant = np.ptp(r, axis=axis) == 0  # exactly zero deviation, whatever the rounding of the mean
    out = _ratio(r.mean(axis=axis), np.where(constant, 0.0, r.std(axis=axis, ddof=1)))
    return float(out) if out.ndim == 0 else out


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """SR0, the expected maximum of ``n_trials`` Sharpe ratios whose true value is 0.

    Bailey & López de Prado (2014), eq. 6 (after the False Strategy theorem):
    SR0 = sqrt(V[SR]) ((1 - γ) Φ^-1(1 - 1/N) + γ Φ^-1(1 - 1/(N e))), γ the Euler-Mascheroni constant.
    """
    if n_trials < 2:
        raise NewsbtError(f"the expected maximum Sharpe ratio needs at least 2 trials, got {n_trials}")
    if not (math.isfinite(sharpe_variance) and sharpe_variance >= 0):
        raise NewsbtError(f"the variance of the trials' Sharpe ratios must be finite and >= 0, got {sharpe_variance}")
    gamma = np.euler_gamma
    quantiles = (1 - gamma) * special.ndtri(1 - 1 / n_trials) + gamma * special.ndtri(1 - 1 / (n_trials * math.e))
    return float(math.sqrt(sharpe_variance) * quantiles)


def probabilistic_sharpe(sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """PSR: the probability that the true Sharpe ratio exceeds ``benchmark``, given T observations.

    Bailey & López de Prado (2012/2014):
    PSR = Φ((SR - SR*) sqrt(T - 1) / sqrt(1 - γ3 SR + (γ4 - 1)/4 SR^2)), γ4 the non-excess kurtosis.
    """
    if n_obs < 2:
        raise NewsbtError(f"the probabilistic Sharpe ratio needs at least 2 observations, got {n_obs}")
    radicand = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if not radicand > 0:
        raise NewsbtError(
            f"the Sharpe ratio's standard error is undefined (1 - skew SR + (kurtosis - 1)/4 SR^2 = {radicand:g})"
        )
    return float(special.ndtr((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(radicand)))


def deflated_sharpe_from_trials(returns: ArrayLike, trial_sharpes: ArrayLike) -> DeflatedSharpe:
    """DSR of the selected strategy's per-period ``returns`` among all trials' per-period Sharpe ratios.

    ``trial_sharpes`` holds every trial's Sharpe ratio, the selected one included; N is their count and
    V[SR] their sample variance (ddof=1). Skewness and non-excess kurtosis are the sample moments of
    ``returns`` (biased estimators, as in the paper). DSR = PSR(SR0), Bailey & López de Prado (2014),
    eq. 9. N counts trials as given: correlated trials overstate the effective number (conservative).
    """
    r = _finite(np.asarray(returns, dtype=float), "returns", ndim=1)
    srs = _finite(np.asarray(trial_sharpes, dtype=float), "trial Sharpe ratios", ndim=1)
    sharpe = sharpe_ratio(r)
    if np.ptp(r) == 0:
        raise NewsbtError("the selected strategy's returns have zero variance; its DSR is undefined")
    variance = float(np.var(srs, ddof=1)) if srs.size > 1 else math.nan
    sr0 = expected_max_sharpe(srs.size, variance)
    skew, kurtosis = _skew_kurtosis(r)
    dsr = probabilistic_sharpe(sharpe, sr0, r.size, skew, kurtosis)
    return DeflatedSharpe(dsr, sr0, sharpe, int(srs.size), int(r.size), skew, kurtosis, variance)


def _skew_kurtosis(r: np.ndarray) -> tuple[float, float]:
    """The biased sample skewness and non-excess kurtosis of ``r`` (``scipy.stats.skew`` and
    ``kurtosis(fisher=False)``; here so that a sweep need not import scipy.stats, ~0.5 s)."""
    x = r - r.mean()
    m2 = np.mean(x**2)
    return float(np.mean(x**3) / m2**1.5), float(np.mean(x**4) / m2**2)


def deflated_sharpe(returns: ArrayLike, selected: int | None = None) -> DeflatedSharpe:
    """DSR of column ``selected`` of the T x N trial returns (default: the best per-period Sharpe)."""
    matrix = _matrix(returns)
    srs = sharpe_ratio(matrix)
    if not np.all(np.isfinite(srs)):
        bad = int(np.flatnonzero(~np.isfinite(srs))[0])
        raise NewsbtError(f"trial {bad} has constant non-zero returns; its Sharpe ratio is infinite")
    if selected is None:
        selected = int(np.argmax(srs))
    if not 0 <= selected < matrix.shape[1]:
        raise NewsbtError(f"selected trial {selected} is out of range for {matrix.shape[1]} trials")
    return replace(deflated_sharpe_from_trials(matrix[:, selected], srs), selected=selected)


def probability_of_backtest_overfitting(returns: ArrayLike, n_blocks: int = 16) -> BacktestOverfitting:
    """PBO by combinatorially symmetric cross-validation (Bailey, Borwein, López de Prado & Zhu 2015).

    The T x N returns are cut into ``n_blocks`` (S, even) contiguous blocks with ``np.array_split``, so
    no row is dropped and block sizes differ by at most one. Each of the C(S, S/2) sets of S/2 blocks
    is in turn the in-sample set, its complement the out-of-sample set (in ``itertools.combinations``
    order). The trial with the best in-sample Sharpe ratio n* is selected (ties: lowest column); its
    out-of-sample relative rank is ω = r / (N + 1), r in 1..N with N best (tied trials share their
    average rank), and λ = ln(ω / (1 - ω)). PBO is the fraction of splits with λ <= 0, i.e. where the
    in-sample winner does no better than the out-of-sample median.
    """
    matrix = _matrix(returns)
    n_obs, n_trials = matrix.shape
    _check_blocks(n_blocks, n_obs)
    moments = _block_moments(matrix, n_blocks)
    splits = _splits(n_blocks)
    chunk = max(1, CHUNK_CELLS // n_trials)
    with threadpool_limits(1, user_api="blas"):  # products of (splits x 16) by (16 x N): threads only contend
        parts = [_evaluate_splits(splits[i : i + chunk], moments) for i in range(0, len(splits), chunk)]
    selected, rank, is_sr, oos_sr = (np.concatenate(column) for column in zip(*parts))
    omega = rank / (n_trials + 1)
    logits = np.log(omega / (1 - omega))
    pbo = float(np.mean(2 * rank <= n_trials + 1))  # λ <= 0 exactly, as ranks are multiples of 1/2
    arrays = [logits, selected, is_sr, oos_sr]
    for a in arrays:
        a.flags.writeable = False
    return BacktestOverfitting(pbo, *arrays, n_blocks, len(splits), n_trials, n_obs)


def _ratio(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """mean / std, with 0 for 0/0 and +/-inf for a non-zero mean over zero deviation."""
    mean, std = np.asarray(mean), np.asarray(std)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(mean / std)
    flat = ~(std > 0)  # rare: fixed where they are rather than with where() over the whole matrix
    if flat.any():
        out[flat] = np.where(mean[flat] == 0, 0.0, np.copysign(np.inf, mean[flat]))
    return out


def _matrix(returns: ArrayLike) -> np.ndarray:
    matrix = _finite(np.asarray(returns, dtype=float), "returns", ndim=2)
    n_obs, n_trials = matrix.shape
    if n_trials < 2:
        raise NewsbtError(f"need at least 2 trials (columns of returns), got {n_trials}")
    if n_obs < 2:
        raise NewsbtError(f"need at least 2 periods (rows of returns), got {n_obs}")
    return matrix


def _finite(values: np.ndarray, what: str, ndim: int) -> np.ndarray:
    if values.ndim != ndim:
        raise NewsbtError(f"{what} must be {ndim}-dimensional, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NewsbtError(f"{what} contain a non-finite value at index {where[0] if ndim == 1 else where}")
    return values


def _check_blocks(n_blocks: int, n_obs: int) -> None:
    """S must be even, 2 <= S <= min(T, MAX_BLOCKS), and T >= 4 so every half has 2 rows for a deviation."""
    if type(n_blocks) is not int or n_blocks < 2 or n_blocks % 2:
        raise NewsbtError(f"the number of blocks must be an even integer >= 2, got {n_blocks!r}")
    if n_blocks > MAX_BLOCKS:
        n_splits = math.comb(n_blocks, n_blocks // 2)
        raise NewsbtError(f"at most {MAX_BLOCKS} blocks are supported; {n_blocks} would give {n_splits:,} splits")
    if n_blocks > n_obs or n_obs < 4:
        raise NewsbtError(f"{n_obs} periods cannot be split into {n_blocks} blocks (need T >= S and T >= 4)")


def _block_moments(matrix: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block (rows) and trial (columns): row count, sum, and sum of squares about the block mean."""
    sizes = np.array([len(b) for b in np.array_split(np.arange(len(matrix)), n_blocks)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.add.reduceat(matrix, starts, axis=0)
    means = sums / sizes[:, None]
    m2 = np.empty_like(sums)
    for b, (start, size) in enumerate(zip(starts, sizes)):  # block by block: temporaries of one block, not T x N
        m2[b] = np.add.reduceat((matrix[start : start + size] - means[b]) ** 2, [0], axis=0)[0]
    return sizes.astype(float), sums, m2 + sizes[:, None] * means**2


def _splits(n_blocks: int) -> np.ndarray:
    """Boolean (C(S, S/2), S) matrix: row c marks the in-sample blocks of split c."""
    chosen = np.array(list(itertools.combinations(range(n_blocks), n_blocks // 2)))
    splits = np.zeros((len(chosen), n_blocks), dtype=bool)
    splits[np.arange(len(chosen))[:, None], chosen] = True
    return splits


def _split_sharpe(in_set: np.ndarray, moments: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Sharpe ratio of every trial over the union of the marked blocks, from block moments.

    Pooled: n = Σ n_b, mean = Σ s_b / n, (n - 1) var = Σ (M2_b + n_b m_b^2) - n mean^2.
    """
    sizes, sums, squares = moments
    weights = in_set.astype(float)
    n = (weights @ sizes)[:, None]
    mean = weights @ sums
    mean /= n
    spread = np.square(mean)  # the same operations in the same order, in place: a chunk is millions of cells
    spread *= n
    var = weights @ squares
    var -= spread
    np.maximum(var, 0, out=var)
    var /= n - 1
    return _ratio(mean, np.sqrt(var, out=var))


def _evaluate_splits(splits: np.ndarray, moments: tuple) -> tuple[np.ndarray, ...]:
    """Per split: the in-sample winner, its out-of-sample rank (1..N, ties averaged) and both Sharpes."""
    is_sr, oos_sr = _split_sharpe(splits, moments), _split_sharpe(~splits, moments)
    rows = np.arange(len(splits))
    best = is_sr.max(axis=1, keepdims=True)
    selected = np.argmax(np.isclose(is_sr, best, rtol=TIE_RTOL, atol=0), axis=1)
    chosen_oos = oos_sr[rows, selected][:, None]
    tied = np.isclose(oos_sr, chosen_oos, rtol=TIE_RTOL, atol=0)
    below = (oos_sr < chosen_oos) & ~tied
    rank = below.sum(axis=1) + (tied.sum(axis=1) + 1) / 2
    return selected, rank, is_sr[rows, selected], chosen_oos[:, 0]
