"""A small crash_dip run recomputed by hand, to the cent, with and without costs."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from newsbt.api import run, spec_from_dict
from tests.synthetic import SESSIONS, bars, spec_dict, steady, two_crashes

D = [s.date() for s in SESSIONS]


def test_trades_and_final_value_without_costs():
    result = run(spec_dict(), prices=two_crashes())
    trades = result.trades
    # AAA: crash on session 2 (100 -> 90). 20 % of 100,000 at the 90 close = 222 whole shares,
    # bought at the session-3 open (91), sold at the session-5 open (95): 2 sessions after entry.
    # BBB: crash on session 4 (50 -> 46). Value then = 100,000 - 222*91 + 222*93 = 100,444;
    # 20 % = 20,088.80 -> 436 shares at 46; bought at 47 (session 5), sold at 48 (session 7).
    expected = pd.DataFrame({
        "ticker": ["AAA", "BBB"],
        "entry_date": [D[3], D[5]],
        "entry_price": [91.0, 47.0],
        "exit_date": [D[5], D[7]],
        "exit_price": [95.0, 48.0],
        "size": [222, 436],
        "pnl": [888.0, 436.0],
        "return_pct": [888 / (222 * 91) * 100, 436 / (436 * 47) * 100],
        "commission": [0.0, 0.0],
        "borrow": [0.0, 0.0],
    })
    pd.testing.assert_frame_equal(trades, expected)
    assert result.equity.iloc[-1] == pytest.approx(100_000 + 888 + 436, abs=0.005)
    assert result.returns.index.equals(result.benchmark_returns.index)


def test_trades_and_final_value_with_commission_and_slippage():
    spec = spec_dict()
    spec["costs"] = {"commission_bps": 10, "slippage_bps": 20}
    result = run(spec, prices=two_crashes())
    comm, slip = 0.001, 0.002
    factor = (1 + slip) * (1 + comm)  # sizing reserves room for both costs

    aaa_size = math.floor(20_000 / (90 * factor))  # 221
    aaa_buy, aaa_sell = 91 * (1 + slip), 95 * (1 - slip)
    aaa_comm = aaa_size * aaa_buy * comm + aaa_size * aaa_sell * comm
    aaa_pnl = aaa_size * (aaa_sell - aaa_buy) - aaa_comm
    cash_after_aaa_buy = 100_000 - aaa_size * aaa_buy * (1 + comm)
    value_s4 = cash_after_aaa_buy + aaa_size * 93
    bbb_size = math.floor(value_s4 * 0.20 / (46 * factor))
    bbb_buy, bbb_sell = 47 * (1 + slip), 48 * (1 - slip)
    bbb_comm = bbb_size * (bbb_buy + bbb_sell) * comm
    bbb_pnl = bbb_size * (bbb_sell - bbb_buy) - bbb_comm

    trades = result.trades
    assert list(trades["size"]) == [aaa_size, bbb_size] == [221, 435]
    assert list(trades["entry_price"]) == pytest.approx([aaa_buy, bbb_buy], abs=1e-9)
    assert list(trades["exit_price"]) == pytest.approx([aaa_sell, bbb_sell], abs=1e-9)
    assert list(trades["commission"]) == pytest.approx([aaa_comm, bbb_comm], abs=0.005)
    assert list(trades["pnl"]) == pytest.approx([aaa_pnl, bbb_pnl], abs=0.005)
    assert result.equity.iloc[-1] == pytest.approx(100_000 + aaa_pnl + bbb_pnl, abs=0.005)
    assert result.run.fills["commission"].sum() == pytest.approx(aaa_comm + bbb_comm, abs=0.005)


def test_take_profit_exits_at_next_open():
    # AAA closes 96 on session 5 (+5.5 % on the 91 entry): take profit at 5 % sells at session 6's open.
    result = run(spec_dict(hold_days=10, take_profit_pct=5), prices=two_crashes())
    aaa = result.trades.set_index("ticker").loc["AAA"]
    assert (aaa["entry_date"], aaa["exit_date"], aaa["exit_price"]) == (D[3], D[6], 96.0)


def test_stop_loss_exits_at_next_open():
    prices = two_crashes()
    prices["AAA"] = bars([100, 100, 100, 91, 85, 80, 81, 82, 82, 82, 82, 82],
                         [100, 100, 90, 86, 84, 81, 82, 82, 82, 82, 82, 82])
    result = run(spec_dict(hold_days=10, stop_loss_pct=6), prices=prices)
    aaa = result.trades.set_index("ticker").loc["AAA"]
    # 86 / 91 - 1 = -5.5 % (hold), 84 / 91 - 1 = -7.7 % on session 4 -> sell at session 5's open (80).
    assert (aaa["exit_date"], aaa["exit_price"]) == (D[5], 80.0)


def test_late_listing_and_missing_bars_do_not_block_other_tickers():
    prices = two_crashes()
    late = SESSIONS[4:]  # CCC lists on session 4 and crashes on its second bar (session 5)
    prices["CCC"] = bars([20, 20, 18, 18, 18, 18, 18, 18], [20, 18, 18, 18, 18, 18, 18, 18], dates=late)
    gappy = two_crashes()["BBB"].drop(SESSIONS[2])  # BBB skips session 2 (AAA's crash day)
    prices["BBB"] = gappy
    result = run(spec_dict(tickers=["AAA", "BBB", "CCC"]), prices=prices)
    entries = result.trades.set_index("ticker")["entry_date"].to_dict()
    assert entries == {"AAA": D[3], "BBB": D[5], "CCC": D[6]}
    assert result.returns.index[0].date() == D[0]


def coinciding_crashes(aaa_open_after: float) -> dict[str, pd.DataFrame]:
    """AAA and BBB both crash on session 2; AAA opens at ``aaa_open_after`` on session 3."""
    prices = two_crashes()
    prices["AAA"] = bars([100, 100, 100, aaa_open_after, 92, 95, 96, 96, 96, 96, 96, 96],
                         [100, 100, 90, 92, 93, 96, 96, 96, 96, 96, 96, 96])
    prices["BBB"] = bars([50, 50, 50, 45, 45, 45, 45, 45, 45, 45, 45, 45],
                         [50, 50, 45, 45, 45, 45, 45, 45, 45, 45, 45, 45])
    return prices


def test_cash_is_never_overspent_when_crashes_coincide():
    result = run(spec_dict(position_pct=60), prices=coinciding_crashes(aaa_open_after=90))
    sizes = result.trades.set_index("ticker")["size"].to_dict()
    # AAA takes 60 % (666 shares at 90 = 59,940); BBB gets only the 40,060 left: 890 shares at 45.
    assert sizes == {"AAA": 666, "BBB": 890}
    assert result.run.refused_orders.empty


def test_an_order_the_cash_cannot_cover_at_the_open_is_reported():
    # AAA gaps up to 91: 666 * 91 + 890 * 45 = 100,656 > 100,000, so the broker refuses BBB's order.
    result = run(spec_dict(position_pct=60), prices=coinciding_crashes(aaa_open_after=91))
    assert result.trades["ticker"].tolist() == ["AAA"]
    refused = result.run.refused_orders
    assert refused[["ticker", "placed_date", "size", "reason"]].values.tolist() == [["BBB", D[2], 890, "Margin"]]


def test_buy_and_hold_holds_whole_shares_from_first_open():
    spec = spec_dict()
    spec["strategy"] = {"name": "buy_and_hold", "ticker": "BMK"}
    result = run(spec, prices={"BMK": steady()})
    fills = result.run.fills
    assert len(fills) == 1 and fills.loc[0, "date"] == D[1]
    assert fills.loc[0, "size"] == math.floor(100_000 / 100.0)
    assert result.run.open_positions["ticker"].tolist() == ["BMK"]


def test_benchmark_gap_is_an_error_not_a_fill():
    prices = two_crashes()
    prices["BMK"] = prices["BMK"].drop(SESSIONS[5])
    with pytest.raises(Exception, match="benchmark BMK has no return on 1 session"):
        run(spec_dict(), prices=prices)


def test_spec_dict_round_trips_dates():
    spec = spec_from_dict(spec_dict())
    assert (spec.run.start, spec.run.end) == (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def test_blended_benchmark_is_the_weighted_daily_return():
    from newsbt.reports.run import tearsheet_title

    prices = {**two_crashes(), "BM2": steady(step=0.002)}
    spec = spec_dict()
    spec["run"]["benchmark"] = {"BMK": 0.6, "BM2": 0.4}
    result = run(spec, prices=prices)
    expected = 0.6 * prices["BMK"]["adj_close"].pct_change() + 0.4 * prices["BM2"]["adj_close"].pct_change()
    assert result.benchmark_returns.iloc[1:].to_numpy() == pytest.approx(expected.iloc[1:].to_numpy(), abs=1e-15)
    assert result.benchmark_returns.name == "60% BMK + 40% BM2"
    assert tearsheet_title(result.run) == "synthetic: crash_dip vs 60% BMK + 40% BM2"


def test_blend_weights_must_sum_to_one():
    spec = spec_dict()
    spec["run"]["benchmark"] = {"BMK": 0.6, "BM2": 0.3}
    with pytest.raises(Exception, match="benchmark weights must sum to 1, not 0.9"):
        spec_from_dict(spec)


def test_alpha_and_beta_against_the_benchmark():
    from newsbt.backtest.metrics import alpha_beta

    bench = pd.Series([0.01, -0.02, 0.015, 0.0, -0.005])
    alpha, beta = alpha_beta(0.001 + 2 * bench, bench)
    assert beta == pytest.approx(2.0, abs=1e-12) and alpha == pytest.approx(0.252, abs=1e-12)


def test_run_page_links_outputs_and_charts_include_news_tickers(tmp_path):
    from newsbt.data.events import Category, Event
    from newsbt.reports.run import write_run

    news = Event(event_id="x", published_at=pd.Timestamp("2024-01-03T21:00Z"),
                 available_at=pd.Timestamp("2024-01-03T21:00Z"), tickers=("AAA",),
                 headline="<script>alert(1)</script>", category=Category.OTHER, direction=-1, source="", notes="")
    result = run(spec_dict(), prices=two_crashes(), events=[news])
    write_run(result.run, tmp_path, tearsheet=False)
    page = (tmp_path / "index.html").read_text()
    assert 'href="summary.json"' in page and 'src="charts/AAA.png"' in page
    assert (tmp_path / "charts" / "AAA.png").read_bytes()[:4] == b"\x89PNG"


def test_cash_interest_is_credited_daily_on_idle_cash():
    spec = spec_dict(drop_pct=50)  # no crash that deep: the cash stays idle all run
    spec["costs"] = {"cash_interest_pct": 3.65}  # 0.01 % per calendar day
    result = run(spec, prices=two_crashes())
    value = 100_000.0
    for before, after in zip(SESSIONS[:-1], SESSIONS[1:]):
        value *= 1 + 0.0001 * (after - before).days
    assert result.equity.iloc[-1] == pytest.approx(value, abs=1e-6)
    assert result.run.cash_interest == pytest.approx(value - 100_000, abs=1e-6)


def test_costs_paid_add_up_commission_slippage_and_borrow():
    from newsbt.reports.run import costs_paid

    spec = spec_dict()
    spec["costs"] = {"commission_bps": 10, "slippage_bps": 20}
    result = run(spec, prices=two_crashes())
    paid = costs_paid(result.run)
    # slippage: 0.2 % of each fill's open, for 221 AAA shares (91 in, 95 out), 435 BBB (47 in, 48 out)
    assert paid["slippage"] == pytest.approx(round(0.002 * (221 * (91 + 95) + 435 * (47 + 48)), 2), abs=0.01)
    assert paid["commission"] == pytest.approx(round(result.trades["commission"].sum(), 2), abs=0.01)
    assert paid["borrow"] == 0.0 and paid["cash_interest_earned"] == 0.0
