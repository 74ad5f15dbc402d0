"""Figures over a sweep's results: ranking, heatmap grids, and the overfitting statistics (DSR, PBO).

Pure functions of the result table and the daily return matrix (sessions x combination); the
report module writes what they return. Combinations that raised are left out of every figure here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.backtest.metrics import PERIODS_PER_YEAR
from newsbt.sweep.overfit import deflated_sharpe, probability_of_backtest_overfitting

MIN_BLOCK_SESSIONS = 5  # PBO: each of the S blocks spans at least a trading week, so S drops for short runs


def ranked(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows best first by ``metric`` (higher is better, max drawdown included: it is negative); ties by index.

    ``rank`` is 1.. for combinations with a value; those without one (undefined figure, or an error)
    come last with no rank.
    """
    order = table.assign(_missing=table[metric].isna()).sort_values(
        ["_missing", metric, "combination"], ascending=[True, False, True], kind="stable")
    order = order.drop(columns="_missing").reset_index(drop=True)
    order.insert(0, "rank", pd.Series(range(1, len(order) + 1), dtype="Int64").where(order[metric].notna()))
    return order


def best_combination(table: pd.DataFrame, metric: str) -> int | None:
    """Index of the best combination by ``metric`` (lowest index among ties), None if none has a value."""
    top = ranked(table, metric).iloc[:1]
    return int(top["combination"].iloc[0]) if len(top) and pd.notna(top["rank"].iloc[0]) else None


def heatmap_pairs(table: pd.DataFrame, names: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs (x, y) of swept parameters taking two values or more among the combinations that ran.

    When only one parameter varies, it pairs with nothing (y = "").
    """
    ran = table[table["error"].isna()]
    varied = [n for n in names if ran[n].nunique(dropna=False) > 1]
    if len(varied) == 1:
        return [(varied[0], "")]
    return list(itertools.combinations(varied, 2))


def heatmap_grid(table: pd.DataFrame, metric: str, x: str, y: str) -> pd.DataFrame:
    """Mean of ``metric`` for each (y, x) pair of values, over every other swept parameter (rows: y)."""
    ok = table[table["error"].isna()]
    labels = {col: ok[col].map(_label) for col in (x, y) if col}
    frame = pd.DataFrame({"x": labels[x], "y": labels[y] if y else "", "value": ok[metric]})
    grid = frame.pivot_table(index="y", columns="x", values="value", aggfunc="mean", sort=False, dropna=False)
    return grid.reindex(index=_in_order(ok[y]) if y else [""], columns=_in_order(ok[x]))


def _label(value: Any) -> str:
    if _is_none(value):
        return "None"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _in_order(values: pd.Series) -> list[str]:
    """Distinct values as labels: None first, then numbers in numeric order, then the rest."""
    def key(v: Any) -> tuple[int, float, str]:
        if _is_none(v):
            return (0, 0.0, "")
        return (1, float(v), "") if isinstance(v, (int, float)) else (2, 0.0, str(v))

    return list(dict.fromkeys(_label(v) for v in sorted(values.tolist(), key=key)))


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pbo_blocks(n_sessions: int, requested: int) -> int | None:
    """S for PBO: ``requested``, lowered to the largest even S whose blocks hold MIN_BLOCK_SESSIONS sessions."""
    fits = n_sessions // MIN_BLOCK_SESSIONS
    blocks = min(requested, fits - fits % 2)
    return blocks if blocks >= 2 else None


def overfitting(returns: pd.DataFrame, selected: int | None, requested_blocks: int) -> dict[str, Any]:
    """DSR of the selected combination among all that ran, and PBO by CSCV; each says why when unavailable."""
    return {"dsr": _dsr(returns, selected), "pbo": _pbo(returns, requested_blocks)}


def _dsr(returns: pd.DataFrame, selected: int | None) -> dict[str, Any]:
    if selected is None or selected not in returns.columns:
        return {"available": False, "reason": "no combination has a value for the ranking metric"}
    try:
        found = deflated_sharpe(returns.to_numpy(), selected=returns.columns.get_loc(selected))
    except NewsbtError as exc:
        return {"available": False, "reason": str(exc)}
    yearly = math.sqrt(PERIODS_PER_YEAR)
    return {
        "available": True, "combination": selected, "dsr": found.dsr,
        "sharpe_annualised": found.sharpe * yearly, "expected_max_sharpe_annualised": found.sr0 * yearly,
        "trials": found.n_trials, "sessions": found.n_obs, "skew": found.skew, "kurtosis": found.kurtosis,
    }


def _pbo(returns: pd.DataFrame, requested: int) -> dict[str, Any]:
    blocks = pbo_blocks(len(returns), requested)
    if returns.shape[1] < 2:
        return {"available": False, "reason": "PBO compares combinations: fewer than 2 ran",
                "blocks_requested": requested}
    if blocks is None:
        return {"available": False, "reason": f"{len(returns)} sessions are too few to split into blocks "
                                              f"of {MIN_BLOCK_SESSIONS}", "blocks_requested": requested}
    try:
        found = probability_of_backtest_overfitting(returns.to_numpy(), n_blocks=blocks)
    except NewsbtError as exc:
        return {"available": False, "reason": str(exc), "blocks_requested": requested}
    return {
        "available": True, "pbo": found.pbo, "blocks": blocks, "blocks_requested": requested,
        "splits": found.n_splits, "trials": found.n_trials, "sessions": found.n_obs,
        "median_logit": float(np.median(found.logits)),
    }
