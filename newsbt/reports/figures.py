"""Numbers the way a person reads them, the same in the terminal, the HTML pages and notebooks.

Returns and rates as percentages with two decimals, ratios with two decimals, counts as whole numbers
with thousands separators, dates as YYYY-MM-DD, and "n/a" for a figure that is undefined (no trades,
flat returns). Names not listed here fall back to four significant digits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

LABELS = {
    "total_return": "total return", "cagr": "CAGR", "sharpe": "Sharpe", "sortino": "Sortino",
    "max_drawdown": "max drawdown", "trades": "trades", "win_rate": "win rate", "exposure": "exposure",
    "alpha": "alpha (annual)", "beta": "beta",
}
PERCENT = frozenset({"total_return", "cagr", "max_drawdown", "win_rate", "exposure", "alpha", "return_pct"})
RATIO = frozenset({"sharpe", "sortino", "beta", "dsr", "pbo"})
COUNT = frozenset({"trades", "rank", "combination", "rows", "size"})


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def fmt(name: str, value: Any) -> str:
    """``value`` of the figure ``name`` as text: see the module docstring for the rules."""
    if is_missing(value):
        return "n/a"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "item"):
        return str(value)
    value = value.item() if hasattr(value, "item") else value
    if name in PERCENT:
        return f"{value:.2%}"
    if name in RATIO:
        return f"{value:.2f}"
    if name in COUNT or isinstance(value, int):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def label(name: str) -> str:
    return LABELS.get(name, name)  # a parameter keeps the name it has in backtest files


def side_by_side(strategy: Mapping[str, Any], benchmark: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, strategy figure, benchmark figure) for every strategy figure; "" where the benchmark has none."""
    return [(label(k), fmt(k, v), fmt(k, benchmark[k]) if k in benchmark else "") for k, v in strategy.items()]
