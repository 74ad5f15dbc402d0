"""Synthetic prices for sweep tests: random walks with planted crashes, gaps up, a late listing and holes.

Small enough that one backtrader run takes a few tens of milliseconds, rich enough that every rule of
crash_dip fires: crashes of several depths, take-profit and stop-loss exits, orders the cash cannot
cover after a gap up (refused), a ticker listed late and another with missing sessions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsbt.sweep.store import SCHEMA, Collected, SweepStore
from tests.synthetic import bars

TICKERS = ("AAA", "BBB", "CCC")


def crashy_prices(n: int = 80, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=n)
    prices = {t: _walk(rng, dates) for t in TICKERS}
    prices["CCC"] = prices["CCC"].iloc[15:]  # listed late
    prices["BBB"] = prices["BBB"].drop(prices["BBB"].index[[10, 11, 30, 47]])  # missing sessions
    closes = [100 * 1.001**i for i in range(n)]
    prices["BMK"] = bars([100.0, *closes[:-1]], closes, dates=dates)
    return prices


def _walk(rng: np.random.Generator, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily moves of ~2 %, a crash (-5 % to -15 %) one session in eight, often followed by a gap up."""
    n = len(dates)
    moves = rng.normal(0.01, 0.02, n)
    crashes = rng.random(n) < 0.125
    moves[crashes] = -rng.uniform(0.05, 0.15, crashes.sum())
    closes = np.round(50 * np.cumprod(1 + moves), 2)
    gaps = rng.normal(0.0, 0.01, n)
    gaps[1:][crashes[:-1]] += rng.choice([0.0, 0.06], crashes[:-1].sum())
    opens = np.round(np.concatenate([[50.0], closes[:-1]]) * (1 + gaps), 2)
    return bars(opens.tolist(), closes.tolist(), dates=dates)


def spec_dict(**strategy) -> dict:
    return {
        "run": {"name": "sweeptest", "start": "2024-01-01", "end": "2024-12-31", "cash": 100_000, "benchmark": "BMK"},
        "strategy": {"name": "crash_dip", "tickers": list(TICKERS), "drop_pct": 7, "hold_days": 3,
                     "position_pct": 30, **strategy},
        "costs": {"commission_bps": 5, "slippage_bps": 5},
    }


def read_saved(store: SweepStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a sweep's folder holds on disk, as ``run_sweep`` hands it out: (one row per combination,
    daily returns as sessions x combination), from every part read back and collected."""
    parts = [pq.read_table(p, schema=SCHEMA) for p in store.parts()]
    collected = Collected(1 + max((pc.max(p["combination"]).as_py() for p in parts if p.num_rows), default=-1))
    for part in parts:
        collected.add(part)
    return collected.outcome(store.results_dir)


def saved_combinations(store: SweepStore) -> set[int]:
    """The combinations a sweep's folder holds parts for."""
    return {i for part in store.parts() for i in pq.read_table(part, columns=["combination"])[0].to_pylist()}
