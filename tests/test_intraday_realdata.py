"""The seed case on real bars: AMD's after-close results of 2024-07-30 traded on NVDA's hourly bars."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from newsbt.api import run
from newsbt.cli import main
from newsbt.reports.run import chart_window

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "backtests" / "amd_afterhours.toml"
pytestmark = pytest.mark.realdata


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the backtest file names its event file relative to the repository


def trade_of(result) -> tuple:
    t = result.trades.iloc[0]
    return t["entry_date"], round(t["entry_price"], 6), t["exit_date"], round(t["exit_price"], 6)


def test_after_hours_buys_the_17h_bar_and_sells_the_next_regular_open_from_the_embedded_sample(
        real_data_dir, tmp_path, at_root, no_network):
    result = run(SEED, data_dir=real_data_dir, intraday_dir=tmp_path)  # an empty dir: the embedded sample
    assert len(result.trades) == 1
    # the 17:00 bar opens at 106.03 (post-market: 20 bps slippage); 2024-07-31 opens at 112.90 (5 bps)
    assert trade_of(result) == (dt.datetime(2024, 7, 30, 17), round(106.03 * 1.002, 6),
                                dt.datetime(2024, 7, 31, 9, 30), round(112.90 * 0.9995, 6))
    assert list(result.returns.index.date.astype(str)) == ["2024-07-29", "2024-07-30", "2024-07-31",
                                                           "2024-08-01", "2024-08-02"]


def test_the_shared_files_and_the_embedded_sample_give_the_same_run(real_data_dir, real_intraday_dir, tmp_path,
                                                                    at_root):
    embedded = run(SEED, data_dir=real_data_dir, intraday_dir=tmp_path)
    shared = run(SEED, data_dir=real_data_dir, intraday_dir=real_intraday_dir)
    pd.testing.assert_frame_equal(embedded.trades, shared.trades)
    pd.testing.assert_series_equal(embedded.returns, shared.returns)


def test_regular_sessions_only_buy_the_next_regular_open(real_data_dir, tmp_path, at_root):
    result = run(SEED, data_dir=real_data_dir, intraday_dir=tmp_path, overrides=['run.sessions=["regular"]'])
    entry, price, exit_, _ = trade_of(result)
    assert (entry, price, exit_) == (dt.datetime(2024, 7, 31, 9, 30), round(112.90 * 1.0005, 6),
                                     dt.datetime(2024, 8, 1, 9, 30))


def test_the_trade_chart_shows_the_bars_from_15h_to_10h30_with_the_news(real_data_dir, tmp_path, at_root):
    result = run(SEED, data_dir=real_data_dir, intraday_dir=tmp_path)
    news = [(e.available_at, e.headline) for e in result.run.events]
    shown, marked = chart_window(result.run.intraday_bars["NVDA"], result.trades, news)
    ny = "America/New_York"
    assert shown.index[0] == pd.Timestamp("2024-07-30 15:30", tz=ny)  # the first bar from 15:00 on
    assert shown.index[-1] == pd.Timestamp("2024-07-31 10:30", tz=ny)
    assert len(shown) == 13 and [at for at, _ in marked] == [pd.Timestamp("2024-07-30 16:05", tz=ny)]


def test_newsbt_run_writes_the_intraday_chart_and_reports_suspect_prints(real_data_dir, tmp_path, at_root):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(SEED), "--data-dir", str(real_data_dir), "--intraday-dir", str(tmp_path / "none"),
              "--reports-dir", str(tmp_path / "reports")])
    assert exit_.value.code == 0
    out = tmp_path / "reports" / "amd_afterhours"
    assert (out / "charts" / "NVDA.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["intraday"]["bars"] == "1h" and summary["intraday"]["suspect_prints_policy"] == "keep"
    flagged = {p["bar"] for p in summary["intraday"]["suspect_prints"]}
    assert "2024-07-30T17:00:00-04:00" in flagged  # low 99.94 under an open-close range of 106.03-106.13
    trades = pd.read_csv(out / "trades.csv")
    assert trades.loc[0, "entry_date"] == "2024-07-30 17:00:00"
