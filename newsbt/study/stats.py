"""Cross-sectional test statistics for event-study CARs, with two-sided p-values.

Inputs per window are one value per event-ticker: the cumulative abnormal return ``car``, the
standardized CAR ``scar`` (CAR divided by its forecast-error standard deviation, see
``newsbt.study.model``) and the residual degrees of freedom ``dof`` of each estimation (L - 2 for the
market model, L - 1 for the other two). Distributions used for the p-values:

* cross-sectional t, BMP and Kolari-Pynnonen: Student t with N - 1 degrees of freedom;
* Patell Z: standard normal;
* sign test: exact Binomial(N, 1/2), two-sided (twice the smaller tail, capped at 1); the statistic
  shown is the normal approximation Z = (N+ - N/2) / sqrt(N/4).

With fewer than two event-tickers the t-type statistics are NaN (no cross-sectional spread).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Statistic:
    """A test statistic and its two-sided p-value."""

    value: float
    p_value: float


NAN = Statistic(float("nan"), float("nan"))


def _student(t: float, n: int) -> Statistic:
    return Statistic(float(t), float(2 * stats.t.sf(abs(t), n - 1)))


def _mean_t(x: np.ndarray) -> Statistic:
    """t = mean(x) / (sd(x) / sqrt(N)), sd with ddof=1; infinite when every value is equal."""
    n = len(x)
    if n < 2:
        return NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        return _student(x.mean() / (x.std(ddof=1) / np.sqrt(n)), n)


def cross_sectional_t(car: np.ndarray) -> Statistic:
    """Cross-sectional t of the CARs."""
    return _mean_t(car)


def patell_z(scar: np.ndarray, dof: np.ndarray) -> Statistic:
    """Patell (1976): Z = sum(SCAR_i) / sqrt(sum(d_i / (d_i - 2))), d_i = residual dof.

    d/(d-2) is the variance of a Student t with d dof, so for the market model (d = L - 2) the
    denominator is the textbook sqrt(sum((L_i - 2)/(L_i - 4))).
    """
    if len(scar) == 0:
        return NAN
    z = scar.sum() / np.sqrt((dof / (dof - 2.0)).sum())
    return Statistic(float(z), float(2 * stats.norm.sf(abs(z))))


def bmp_t(scar: np.ndarray) -> Statistic:
    """Boehmer, Musumeci & Poulsen (1991): the cross-sectional t of the standardized CARs."""
    return _mean_t(scar)


def kolari_pynnonen_t(bmp: Statistic, n: int, rbar: float) -> Statistic:
    """Kolari & Pynnonen (2010) clustering adjustment:
    t_adj = t_BMP * sqrt((1 - rbar) / (1 + (N - 1) * rbar))."""
    if n < 2 or not np.isfinite(bmp.value):
        return NAN
    return _student(bmp.value * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar)), n)


def mean_cross_correlation(residuals: np.ndarray) -> float:
    """Average off-diagonal Pearson correlation between the rows of ``residuals`` (N x L).

    Rows are the estimation-period residuals of each event-ticker aligned in event time (position k
    is day estimation_start + k relative to each day 0), so pairs sharing an event date are compared
    on the same calendar days and unrelated dates contribute correlations near zero.
    """
    n = residuals.shape[0]
    if n < 2:
        return float("nan")
    corr = np.corrcoef(residuals)
    return float((corr.sum() - np.trace(corr)) / (n * (n - 1)))


def sign_test(car: np.ndarray) -> tuple[int, Statistic]:
    """Number of positive CARs (ties at exactly 0 count as not positive) and the sign test of
    P(CAR > 0) = 1/2: normal-approximation Z, exact binomial two-sided p-value."""
    n = len(car)
    k = int((car > 0).sum())
    if n == 0:
        return k, NAN
    z = (k - n / 2) / np.sqrt(n / 4)
    p = min(1.0, 2 * min(stats.binom.cdf(k, n, 0.5), stats.binom.sf(k - 1, n, 0.5)))
    return k, Statistic(float(z), float(p))


def window_statistics(car: np.ndarray, scar: np.ndarray, dof: np.ndarray, rbar: float) -> dict[str, float]:
    """Every statistic for one CAR window, flattened into a table row."""
    bmp = bmp_t(scar)
    n_positive, sign = sign_test(car)
    named = (
        ("t", "p_t", cross_sectional_t(car)),
        ("patell_z", "p_patell", patell_z(scar, dof)),
        ("bmp_t", "p_bmp", bmp),
        ("kp_t", "p_kp", kolari_pynnonen_t(bmp, len(car), rbar)),
        ("sign_z", "p_sign", sign),
    )
    row: dict[str, float] = {"n_positive": n_positive}
    for name, p_name, stat in named:
        row[name] = stat.value
        row[p_name] = stat.p_value
    return row

def band_halfwidth(x: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Half-width of the ``level`` confidence interval for the column means of ``x`` (N x D):
    t_{(1+level)/2, N-1} * sd / sqrt(N), sd across rows with ddof=1; NaN when N < 2."""
    n = x.shape[0]
    if n < 2:
        return np.full(x.shape[1], np.nan)
    return stats.t.ppf((1 + level) / 2, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
