"""Headline statistics of a run, computed from its returns and trades (plain numpy/pandas).

Conventions: 252 sessions a year, risk-free rate 0, Sharpe on daily returns annualised by sqrt(252),
CAGR over calendar time between the first and last session, drawdown on the equity curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252


def total_return(returns: pd.Series | np.ndarray) -> float | np.ndarray:
    return _each(np.prod(1.0 + np.asarray(returns), axis=-1) - 1.0)


def years_of(returns: pd.Series) -> float:
    """Calendar years between the first and the last session."""
    return years_between((returns.index[-1] - returns.index[0]).days)


def years_between(days: int) -> float:
    """``days`` calendar days in years."""
    return days / 365.25


def cagr(returns: pd.Series | np.ndarray, years: float | None = None) -> float | np.ndarray:
    years = years_of(returns) if years is None else years
    growth = np.asarray(1.0 + total_return(returns))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = growth ** (1.0 / years) - 1.0 if years > 0 else np.full_like(growth, np.nan)
    return _each(np.where(growth > 0, rate, np.nan))


def sharpe(returns: pd.Series | np.ndarray) -> float | np.ndarray:
    r = np.asarray(returns, dtype=float)
    if r.shape[-1] < 2:
        return _each(np.full(r.shape[:-1], np.nan))
    sd = r.std(ddof=1, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _each(np.where(sd > 0, r.mean(axis=-1) / sd * math.sqrt(PERIODS_PER_YEAR), np.nan))


def sortino(returns: pd.Series | np.ndarray) -> float | np.ndarray:
    r = np.asarray(returns, dtype=float)
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2, axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _each(np.where(downside > 0, r.mean(axis=-1) / downside * math.sqrt(PERIODS_PER_YEAR), np.nan))


def max_drawdown(returns: pd.Series | np.ndarray) -> float | np.ndarray:
    """Largest peak-to-trough fall of the compounded curve, as a negative fraction."""
    curve = np.cumprod(1.0 + np.asarray(returns), axis=-1)
    peaks = np.maximum.accumulate(np.maximum(curve, 1.0), axis=-1)
    return _each(np.min(curve / peaks - 1.0, axis=-1))


def _each(values: np.ndarray) -> float | np.ndarray:
    """Metrics reduce the last axis: one series gives a float, rows of series (a 2-d array) an array."""
    return float(values) if np.ndim(values) == 0 else values


def win_rate(trades: pd.DataFrame) -> float:
    return _win_rate(trades["pnl"].to_numpy())


def _win_rate(trade_pnl: np.ndarray) -> float:
    return float((trade_pnl > 0).mean()) if len(trade_pnl) else float("nan")


def exposure(gross_exposure: pd.Series | np.ndarray) -> float | np.ndarray:
    """Share of sessions that ended with any open position."""
    return _each((np.asarray(gross_exposure) > 0).mean(axis=-1))


def return_metrics(returns: pd.Series | np.ndarray, years: float | None = None) -> dict[str, float | None]:
    """Figures that depend on the return series alone (also used for the benchmark); ``years`` is
    required for a bare array. Daily returns are never NaN here (a session without a bar returns 0),
    so plain numpy is used throughout."""
    return _clean(_return_figures(returns, years))


def _return_figures(returns: pd.Series | np.ndarray, years: float | None) -> dict[str, float | np.ndarray]:
    """:func:`return_metrics` unrounded: a float each for one series, an array each for rows of them."""
    return {"total_return": total_return(returns), "cagr": cagr(returns, years), "sharpe": sharpe(returns),
            "sortino": sortino(returns), "max_drawdown": max_drawdown(returns)}


def alpha_beta(returns: pd.Series, benchmark: pd.Series) -> tuple[float, float]:
    """OLS of daily strategy returns on benchmark returns: (annualised alpha, beta)."""
    var = benchmark.var(ddof=1)
    if not var > 0:
        return float("nan"), float("nan")
    beta = returns.cov(benchmark, ddof=1) / var
    return float((returns.mean() - beta * benchmark.mean()) * PERIODS_PER_YEAR), float(beta)


def headline(returns: pd.Series, trades: pd.DataFrame, gross_exposure: pd.Series,
             benchmark: pd.Series | None = None) -> dict[str, float | None]:
    """The numbers every report shows for a strategy (alpha and beta when a benchmark is given)."""
    alpha, beta = alpha_beta(returns, benchmark) if benchmark is not None else (float("nan"),) * 2
    return {**headline_of(returns.to_numpy(), years_of(returns), trades["pnl"].to_numpy(), gross_exposure.to_numpy()),
            **_clean({"alpha": alpha, "beta": beta})}


def headline_of(returns: np.ndarray, years: float, trade_pnl: np.ndarray,
                gross_exposure: np.ndarray) -> dict[str, float | None]:
    """``headline`` without alpha and beta, from plain arrays (what a sweep computes per combination)."""
    return _with_trades(return_metrics(returns, years), trade_pnl, exposure(gross_exposure))


def headline_rows(returns: np.ndarray, years: float, trade_pnl: Sequence[np.ndarray],
                  gross_exposure: np.ndarray) -> list[dict[str, float | None]]:
    """``headline_of`` for runs on one calendar at once (returns and exposure as rows x sessions): each
    figure is one numpy call across the rows, and every row equals ``headline_of``'s to the bit (numpy
    reduces each row's contiguous last axis in the same order as a lone series)."""
    columns = _return_figures(returns, years)
    exposed = exposure(gross_exposure)
    return [_with_trades(_clean({name: float(values[r]) for name, values in columns.items()}), pnl, float(exposed[r]))
            for r, pnl in enumerate(trade_pnl)]


def _with_trades(figures: dict[str, float | None], trade_pnl: np.ndarray, exposed: float) -> dict[str, float | None]:
    """A run's return figures followed by its trade count, win rate and exposure."""
    return {**figures, "trades": len(trade_pnl), **_clean({"win_rate": _win_rate(trade_pnl), "exposure": exposed})}


def _clean(figures: dict[str, float]) -> dict[str, float | None]:
    """Round for stable, readable files; undefined figures (no trades, flat returns) become None."""
    return {k: round(v, 10) if math.isfinite(v) else None for k, v in figures.items()}
