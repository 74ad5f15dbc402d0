"""The seed facts on the real prices: NVDA's dips of 2024-07-30 and 2025-01-27 are bought next open."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from newsbt import api
from newsbt.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result(real_data_dir):
    return api.run(ROOT / "backtests" / "ai_crash_dip.toml", data_dir=real_data_dir)


@pytest.mark.parametrize("entry, open_price", [(dt.date(2024, 7, 31), 112.9), (dt.date(2025, 1, 28), 121.81)])
def test_nvda_dip_bought_at_next_open(result, real_data_dir, entry, open_price):
    prices = api.load_prices_for(result.spec, real_data_dir)["NVDA"]
    assert prices.loc[str(entry), "open"] == open_price  # the open in the data file
    nvda = result.trades[result.trades["ticker"] == "NVDA"].set_index("entry_date")
    assert entry in nvda.index
    fill = result.run.fills.query("ticker == 'NVDA' and date == @entry").iloc[0]
    assert fill["bar_open"] == open_price
    assert nvda.loc[entry, "entry_price"] == pytest.approx(open_price * (1 + 5e-4), abs=1e-9)  # 5 bps slippage


def test_crash_days_are_the_ones_named_in_the_issue(real_data_dir):
    spec = api.load_spec(ROOT / "backtests" / "ai_crash_dip.toml")
    closes = api.load_prices_for(spec, real_data_dir)["NVDA"]["close"]
    returns = closes.pct_change().mul(100).round(2)
    assert returns["2024-07-30"] == -7.04 and returns["2025-01-27"] == -16.97


def test_cli_run_on_real_prices_writes_every_output(real_data_dir, tmp_path, no_network):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(ROOT / "backtests" / "ai_crash_dip.toml"), "--reports-dir", str(tmp_path)])
    assert exit_.value.code == 0
    out_dir = tmp_path / "ai_crash_dip"
    assert {p.name for p in out_dir.iterdir()} >= {"tearsheet.html", "trades.csv", "equity.csv", "summary.json"}
    summary = json.loads((out_dir / "summary.json").read_text())
    assert (summary["first_session"], summary["last_session"]) == ("2019-01-02", "2025-06-30")
    html = (out_dir / "tearsheet.html").read_text()
    strategy, benchmark = summary["metrics"]["total_return"], summary["benchmark_metrics"]["total_return"]
    # the tearsheet covers exactly the run: same cumulative returns as summary.json, both series
    assert f"Cumulative Return</td><td>{benchmark:.2%}</td><td>{strategy:.2%}</td>" in html
    assert "<title>ai_crash_dip: crash_dip vs QQQ</title>" in html and "2 Jan, 2019 - 30 Jun, 2025" in html
    assert "https://" not in html.split("<body")[0] and 'onload="save()"' not in html
