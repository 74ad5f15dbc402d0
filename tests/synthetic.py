"""Small synthetic price frames with crashes planted on known days, for exact tests."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from newsbt.data.prices import validate_prices

SESSIONS = pd.bdate_range("2024-01-01", periods=12)


def bars(opens: Sequence[float], closes: Sequence[float], dates: Sequence = SESSIONS) -> pd.DataFrame:
    """A validated price frame: high/low 5 % outside the open/close range, adj_close = close."""
    dates = list(dates)[: len(closes)]
    raw = pd.DataFrame({
        "date": [d.strftime("%Y-%m-%d") for d in dates],
        "open": opens,
        "high": [max(o, c) * 1.05 for o, c in zip(opens, closes)],
        "low": [min(o, c) * 0.95 for o, c in zip(opens, closes)],
        "close": closes,
        "adj_close": closes,
        "volume": [1_000_000] * len(closes),
    }).astype(str)
    return validate_prices(raw)


def steady(n: int = len(SESSIONS), start: float = 100.0, step: float = 0.001) -> pd.DataFrame:
    """A benchmark that rises ``step`` a day, open = previous close."""
    closes = [start * (1 + step) ** i for i in range(n)]
    return bars([start, *closes[:-1]], closes, dates=pd.bdate_range(SESSIONS[0], periods=n))


def spec_dict(**strategy) -> dict:
    """A backtest file as a dict: crash_dip on AAA/BBB, benchmark BMK, over the synthetic sessions."""
    return {
        "run": {"name": "synthetic", "start": "2024-01-01", "end": "2024-01-31", "cash": 100_000, "benchmark": "BMK"},
        "strategy": {"name": "crash_dip", "tickers": ["AAA", "BBB"], "drop_pct": 7, "hold_days": 2,
                     "position_pct": 20, **strategy},
        "costs": {"commission_bps": 0, "slippage_bps": 0},
    }


def two_crashes() -> dict[str, pd.DataFrame]:
    """AAA crashes -10 % on session 2, BBB -8 % on session 4; BMK rises steadily.

    session:   0    1    2    3    4    5    6    7    8    9   10   11
    AAA open  100  100  100   91   92   95   96   96   96   96   96   96
    AAA close 100  100   90   92   93   96   96   96   96   96   96   96
    BBB open   50   50   50   50   50   47   47   48   49   49   49   49
    BBB close  50   50   50   50   46   47   47   49   49   49   49   49
    """
    return {
        "AAA": bars([100, 100, 100, 91, 92, 95, 96, 96, 96, 96, 96, 96],
                    [100, 100, 90, 92, 93, 96, 96, 96, 96, 96, 96, 96]),
        "BBB": bars([50, 50, 50, 50, 50, 47, 47, 48, 49, 49, 49, 49],
                    [50, 50, 50, 50, 46, 47, 47, 49, 49, 49, 49, 49]),
        "BMK": steady(),
    }
