"""rotation_spread: a long/short spread checked by hand, beta hedging from past data only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from newsbt.api import run
from strategies.rotation_spread import gap_direction, ratio_zscore, zscore_direction
from tests.synthetic import SESSIONS, bars, steady

D = [s.date() for s in SESSIONS]


def spread_spec(costs: dict | None = None, **strategy) -> dict:
    return {
        "run": {"name": "spread", "start": "2024-01-01", "end": "2024-12-31", "cash": 100_000, "benchmark": "BMK"},
        "strategy": {"name": "rotation_spread", "long": "LNG", "short": "SHT", "leg_pct": 50, "gap_pct": 1.5,
                     "hold_days": 2, **strategy},
        "costs": costs or {},
    }


def gap_prices() -> dict[str, pd.DataFrame]:
    """LNG +3 % vs SHT 0 % on session 2 (Wed 2024-01-03); entry Thu, exit Mon 2024-01-08 (3 days later)."""
    return {
        "LNG": bars([100, 100, 100, 103, 104, 105, 104, 104, 104, 104, 104, 104],
                    [100, 100, 103, 104, 104, 104, 104, 104, 104, 104, 104, 104]),
        "SHT": bars([50, 50, 50, 50, 50, 49, 49.5, 49.5, 49.5, 49.5, 49.5, 49.5],
                    [50, 50, 50, 50, 49.5, 49.5, 49.5, 49.5, 49.5, 49.5, 49.5, 49.5]),
        "BMK": steady(),
    }


def test_long_short_spread_to_the_cent():
    costs = {"commission_per_share": 0.01, "commission_min": 1.0, "slippage_bps": 10, "borrow_fee_pct": 5}
    result = run(spread_spec(costs), prices=gap_prices())
    slip, per_share, fee = 0.001, 0.01, 0.05
    n_long, n_short = math.floor(50_000 / 103), math.floor(50_000 / 50)  # 485 and 1,000 shares
    long_in, long_out = 103 * (1 + slip), 105 * (1 - slip)
    short_in, short_out = 50 * (1 - slip), 49 * (1 + slip)
    long_comm = 2 * max(n_long * per_share, 1.0)
    short_comm = 2 * max(n_short * per_share, 1.0)
    # Borrow: Thu->Fri 1 day on Thursday's close (50), Fri->Mon 3 days on Friday's close (49.5).
    borrow = fee / 365 * n_short * (1 * 50 + 3 * 49.5)
    long_pnl = n_long * (long_out - long_in) - long_comm
    short_pnl = n_short * (short_in - short_out) - short_comm - borrow

    trades = result.trades.set_index("ticker")
    assert trades.loc["LNG", ["entry_date", "exit_date"]].tolist() == [D[3], D[5]]
    assert trades.loc["SHT", ["entry_date", "exit_date"]].tolist() == [D[3], D[5]]
    assert trades.loc["LNG", "size"] == n_long and trades.loc["SHT", "size"] == -n_short
    assert trades.loc["LNG", "entry_price"] == pytest.approx(long_in, abs=1e-9)
    assert trades.loc["SHT", "entry_price"] == pytest.approx(short_in, abs=1e-9)
    assert trades.loc["SHT", "exit_price"] == pytest.approx(short_out, abs=1e-9)
    assert trades.loc["LNG", "commission"] == pytest.approx(long_comm, abs=0.005)
    assert trades.loc["SHT", "commission"] == pytest.approx(short_comm, abs=0.005)
    assert trades.loc["SHT", "borrow"] == pytest.approx(borrow, abs=0.005)
    assert trades.loc["LNG", "pnl"] == pytest.approx(long_pnl, abs=0.005)
    assert trades.loc["SHT", "pnl"] == pytest.approx(short_pnl, abs=0.005)
    assert result.equity.iloc[-1] == pytest.approx(100_000 + long_pnl + short_pnl, abs=0.005)
    assert result.run.borrow_charges["days"].tolist() == [1, 3]


def test_reversion_takes_the_other_side():
    result = run(spread_spec(mode="reversion"), prices=gap_prices())
    sizes = result.trades.set_index("ticker")["size"]
    assert sizes["LNG"] < 0 < sizes["SHT"]


def beta_prices(beta_after: float) -> dict[str, pd.DataFrame]:
    """SHT moves +-1 % alternately; LNG moves 2x as much until the signal day, ``beta_after`` x after."""
    sessions = pd.bdate_range("2024-01-01", periods=40)
    short_r = np.array([0.0] + [0.01 * (-1) ** i for i in range(1, 40)])
    long_r = 2 * short_r
    long_r[30] = 0.03  # the signal: LNG +3 %, SHT -1 % on session 30
    long_r[31:] = beta_after * short_r[31:]
    long_c, short_c = 100 * np.cumprod(1 + long_r), 50 * np.cumprod(1 + short_r)
    return {
        "LNG": bars(list(np.r_[100, long_c[:-1]]), list(long_c), dates=sessions),
        "SHT": bars(list(np.r_[50, short_c[:-1]]), list(short_c), dates=sessions),
        "BMK": steady(40),
    }


def test_beta_hedge_uses_only_data_up_to_the_signal_day():
    spec = spread_spec(hedge="beta", beta_window=20, hold_days=3)
    before, after = run(spec, prices=beta_prices(2.0)), run(spec, prices=beta_prices(-3.0))
    closes = beta_prices(2.0)
    window_long = closes["LNG"]["close"].to_numpy()[10:31]  # 21 closes -> 20 returns up to session 30
    window_short = closes["SHT"]["close"].to_numpy()[10:31]
    r_l, r_s = np.diff(window_long) / window_long[:-1], np.diff(window_short) / window_short[:-1]
    beta = np.cov(r_l, r_s, ddof=1)[0, 1] / np.var(r_s, ddof=1)
    value = before.equity.iloc[30]
    expected_short = math.floor(value * 0.5 * beta / window_short[-1])
    def entry_sizes(result) -> dict:
        return result.trades.head(2).set_index("ticker")["size"].to_dict()

    assert entry_sizes(before) == {"LNG": math.floor(value * 0.5 / window_long[-1]), "SHT": -expected_short}
    assert entry_sizes(after) == entry_sizes(before)  # what happens after entry changes nothing


@pytest.mark.parametrize("long_r, short_r, mode, expected", [
    (0.0035, -0.0138, "momentum", 1), (0.0035, -0.0138, "reversion", -1),
    (-0.02, 0.0, "momentum", -1), (0.01, 0.0, "momentum", 0),
])
def test_gap_direction(long_r, short_r, mode, expected):
    assert gap_direction(long_r, short_r, 1.5, mode == "momentum") == expected


def test_zscore_signal():
    long_c = np.array([100, 100, 100, 100, 110.0])
    z = ratio_zscore(long_c, np.full(5, 50.0))
    assert z == pytest.approx(4 * np.log(1.1) / 5 / np.std(np.log(long_c / 50), ddof=1))
    assert zscore_direction(z, 1.5, False) == -1 and zscore_direction(0.2, 1.5, True) == 0


def test_rotation_on_real_prices_enters_after_the_2024_07_30_gap(real_data_dir, tmp_path):
    from pathlib import Path

    result = run(Path(__file__).resolve().parents[1] / "backtests" / "rotation_qqq_iwm.toml", data_dir=real_data_dir)
    entries = result.trades[result.trades["entry_date"] == pd.Timestamp("2024-07-31").date()]
    assert entries.set_index("ticker")["size"].apply(np.sign).to_dict() == {"IWM": 1, "QQQ": -1}
    assert result.tearsheet(tmp_path / "t.html").stat().st_size > 10_000
