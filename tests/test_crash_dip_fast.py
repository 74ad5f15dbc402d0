"""engine = "fast" against backtrader itself: the same fills, trades, refusals and equity, to the bit."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from newsbt import api
from newsbt.backtest.engine import run_backtest
from newsbt.core.errors import NewsbtError
from newsbt.backtest.spec import spec_from_dict
from strategies.crash_dip_fast import FastRunner, run_fast
from tests.sweepdata import crashy_prices, spec_dict

ROOT = Path(__file__).resolve().parents[1]


def assert_same_run(reference, fast) -> None:
    for name in ("fills", "trades", "open_positions", "refused_orders"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(reference, name), check_exact=True, obj=name)
    for name in ("equity", "returns", "gross_exposure", "benchmark_returns"):
        pd.testing.assert_series_equal(getattr(fast, name), getattr(reference, name), check_exact=True, obj=name)
    assert fast.idle_tickers == reference.idle_tickers


COSTS = [
    {"commission_bps": 5, "slippage_bps": 5},
    {"commission_per_share": 0.01, "commission_min": 1.0, "slippage_bps": 20},
    {},
]
GRID = list(itertools.product([5, 8], [1, 4], [30, 90], [(None, None), (4, 3)], range(len(COSTS))))


def test_fast_engine_matches_backtrader_on_the_whole_synthetic_grid():
    prices = crashy_prices()
    runner = FastRunner(prices)
    refused = trades = 0
    for drop, hold, position, (take_profit, stop_loss), costs in GRID:
        raw = spec_dict(drop_pct=drop, hold_days=hold, position_pct=position, take_profit_pct=take_profit,
                        stop_loss_pct=stop_loss)
        raw["costs"] = COSTS[costs]
        spec = spec_from_dict(raw)
        reference = run_backtest(spec, prices)
        assert_same_run(reference, runner(spec))
        refused += len(reference.refused_orders)
        trades += len(reference.trades)
    assert refused > 0 and trades > 100  # the grid exercises refusals at the open and many exits


def test_fast_engine_refuses_what_it_does_not_replay():
    prices = crashy_prices()
    raw = spec_dict()
    raw["costs"] = {"cash_interest_pct": 2}
    with pytest.raises(NewsbtError, match="cash interest"):
        run_fast(spec_from_dict(raw), prices)
    raw = spec_dict()
    raw["strategy"] = {"name": "buy_and_hold", "ticker": "AAA"}
    with pytest.raises(NewsbtError, match="only runs crash_dip"):
        run_fast(spec_from_dict(raw), prices)


@pytest.mark.realdata
def test_fast_engine_matches_backtrader_on_real_prices(real_data_dir):
    base = api.load_spec(ROOT / "backtests" / "ai_crash_dip.toml")
    prices = api.load_prices_for(base, real_data_dir)
    runner = FastRunner(prices)
    for drop, hold, position, stop in [(7, 5, 20, None), (5, 3, 60, 4), (10, 8, 35, None)]:
        spec = base.with_params(drop_pct=drop, hold_days=hold, position_pct=position, stop_loss_pct=stop)
        assert_same_run(run_backtest(spec, prices), runner(spec))
