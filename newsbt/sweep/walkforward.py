"""Walk-forward selection on a sweep's daily returns: pick in-sample, trade the next window out of sample.

Windows roll over the sessions: ``train_days`` sessions in sample, where every combination is scored
by the metric, then the next ``test_days`` sessions out of sample, which take the winner's daily
returns; the next window starts ``test_days`` later. The stitched out-of-sample returns are what
choosing parameters this way would have earned.

One simplification, stated in the report: each combination ran once over the whole period, so a
window's returns carry any position it held when the window opened; the parameters switch at the
window's start without trading out and back in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.backtest.metrics import cagr, max_drawdown, sharpe, sortino, total_return, years_of

SCORES: dict[str, Callable[..., float | np.ndarray]] = {
    "sharpe": sharpe, "sortino": sortino, "total_return": total_return, "cagr": cagr, "max_drawdown": max_drawdown,
}


@dataclass(frozen=True)
class WalkForward:
    returns: pd.Series  # stitched out-of-sample daily returns
    windows: pd.DataFrame  # one row per window: dates, chosen combination, its in- and out-of-sample score


def walk_forward(returns: pd.DataFrame, metric: str, train_days: int, test_days: int) -> WalkForward:
    """Roll in-sample/out-of-sample windows over ``returns`` (sessions x combination)."""
    if metric not in SCORES:
        raise NewsbtError(f"walk-forward ranks by one of {', '.join(SCORES)}, not {metric!r}")
    n = len(returns)
    if returns.shape[1] == 0 or n <= train_days:
        raise NewsbtError(f"walk-forward needs more than train_days = {train_days} sessions of results; "
                          f"there are {n} sessions and {returns.shape[1]} combinations that ran")
    score = SCORES[metric]
    rows, pieces = [], []
    for start in range(0, n - train_days, test_days):
        train = returns.iloc[start : start + train_days]
        test = returns.iloc[start + train_days : start + train_days + test_days]
        scores = _scores(train, score)
        chosen = scores.index[int(np.nanargmax(scores.to_numpy()))] if scores.notna().any() else scores.index[0]
        pieces.append(test[chosen])
        rows.append({
            "train_start": train.index[0].date(), "train_end": train.index[-1].date(),
            "test_start": test.index[0].date(), "test_end": test.index[-1].date(),
            "combination": int(chosen), f"in_sample_{metric}": scores[chosen],
            f"out_of_sample_{metric}": score(test[chosen]),
        })
    return WalkForward(pd.concat(pieces).rename("walk_forward"), pd.DataFrame(rows))


def _scores(train: pd.DataFrame, score: Callable[..., float | np.ndarray]) -> pd.Series:
    """Every combination's score at once: the metrics reduce rows, and each row of the transposed
    matrix is summed exactly as its column alone would be."""
    rows = np.ascontiguousarray(train.to_numpy(dtype=float).T)
    values = score(rows, years_of(train)) if score is cagr else score(rows)
    return pd.Series(values, index=train.columns)
