"""Headline statistics of a run, computed from its returns and trades (plain numpy/pandas).

Conventions: 252 sessions a year, risk-free rate 0, Sharpe on daily returns annualised by sqrt(252),
CAGR over calendar time between the first and last session, drawdown on the equity curve.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252


def total_return(returns: pd.Series) -> float:
    return float(np.prod(1.0 + returns.to_numpy()) - 1.0)


def cagr(returns: pd.Series) -> float:
    years = (returns.index[-1] - returns.index[0]).days / 365.25
    growth = 1.0 + total_return(returns)
    return float(growth ** (1.0 / years) - 1.0) if years > 0 and growth > 0 else float("nan")


def sharpe(returns: pd.Series) -> float:
    sd = returns.std(ddof=1)
    return float(returns.mean() / sd * math.sqrt(PERIODS_PER_YEAR)) if sd > 0 else float("nan")


def sortino(returns: pd.Series) -> float:
    downside = np.sqrt(np.mean(np.minimum(returns.to_numpy(), 0.0) ** 2))
    return float(returns.mean() / downside * math.sqrt(PERIODS_PER_YEAR)) if downside > 0 else float("nan")


def max_drawdown(returns: pd.Series) -> float:
    """Largest peak-to-trough fall of the compounded curve, as a negative fraction."""
    curve = np.cumprod(1.0 + returns.to_numpy())
    peaks = np.maximum.accumulate(np.maximum(curve, 1.0))
    return float(np.min(curve / peaks - 1.0))


def win_rate(trades: pd.DataFrame) -> float:
    return float((trades["pnl"] > 0).mean()) if len(trades) else float("nan")


def exposure(gross_exposure: pd.Series) -> float:
    """Share of sessions that ended with any open position."""
    return float((gross_exposure > 0).mean())


def return_metrics(returns: pd.Series) -> dict[str, float | None]:
    """Figures that depend on the return series alone (also used for the benchmark)."""
    return _clean({
        "total_return": total_return(returns),
        "cagr": cagr(returns),
        "sharpe": sharpe(returns),
        "sortino": sortino(returns),
        "max_drawdown": max_drawdown(returns),
    })


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
    return {
        **return_metrics(returns),
        "trades": len(trades),
        **_clean({"win_rate": win_rate(trades), "exposure": exposure(gross_exposure), "alpha": alpha, "beta": beta}),
    }


def _clean(figures: dict[str, float]) -> dict[str, float | None]:
    """Round for stable, readable files; undefined figures (no trades, flat returns) become None."""
    return {k: round(v, 10) if math.isfinite(v) else None for k, v in figures.items()}
