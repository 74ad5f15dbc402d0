"""Intraday backtests through backtrader: fills at the next bar's open, news public from the first bar
that starts strictly after it, wider slippage outside regular hours, daily metrics compounded per session."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.api import run
from newsbt.backtest.spec import load_spec
from newsbt.core.errors import NewsbtError
from newsbt.data.newsgate import NewsGate
from newsbt.sweep.runner import plan_sweep
from tests.intraday_bars import NEW_YORK, bar_open, hourly
from tests.synthetic import bars
from tests.test_news_reaction import news

DAYS = ["2024-07-29", "2024-07-30", "2024-07-31", "2024-08-01", "2024-08-02"]
ALL = ("pre", "regular", "post")


def prices(sessions=ALL) -> dict[str, pd.DataFrame]:
    """AAA hourly bars of every session (the run picks its own), BMK daily rising 0.1 % a session."""
    closes = [100 * 1.001**i for i in range(len(DAYS))]
    return {"AAA_1h": hourly(DAYS, sessions), "BMK": bars([100, *closes[:-1]], closes, dates=pd.DatetimeIndex(DAYS))}


def spec(sessions=ALL, costs=None, **strategy) -> dict:
    return {
        "run": {"name": "intraday", "start": DAYS[0], "end": DAYS[-1], "cash": 100_000, "benchmark": "BMK",
                "bars": "1h", "sessions": list(sessions)},
        "strategy": {"name": "news_reaction", "tickers": ["AAA"], "mode": "follow", "hold_days": 1,
                     "position_pct": 20, **strategy},
        "costs": costs or {"commission_bps": 0, "slippage_bps": 0},
    }


AMD = news(("2024-07-30T16:05:00-04:00", "AAA", 1, ""), category="earnings")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_after_hours_news_buys_the_first_post_market_bar_after_it_and_sells_the_next_regular_open():
    frames = prices()
    result = run(spec(), prices=frames, events=AMD)
    fills = result.run.fills
    assert list(fills["date"]) == [local("2024-07-30 17:00"), local("2024-07-31 09:30")]
    bar = frames["AAA_1h"]
    assert list(fills["price"]) == [bar_open(bar, "2024-07-30 17:00"), bar_open(bar, "2024-07-31 09:30")]
    # sized at the close of the 16:00 bar, the bar whose close the decision sees: 20 % of 100,000
    assert fills["size"].iloc[0] == math.floor(20_000 / bar.loc[pd.Timestamp("2024-07-30 16:00", tz=NEW_YORK), "close"])
    trade = result.trades.iloc[0]
    assert (trade["entry_date"], trade["exit_date"]) == (local("2024-07-30 17:00"), local("2024-07-31 09:30"))


def test_regular_bars_only_buy_the_next_regular_open_instead():
    frames = prices()
    result = run(spec(sessions=["regular"]), prices=frames, events=AMD)
    assert list(result.run.fills["date"]) == [local("2024-07-31 09:30"), local("2024-08-01 09:30")]
    bar = frames["AAA_1h"]
    assert list(result.run.fills["price"]) == [bar_open(bar, "2024-07-31 09:30"), bar_open(bar, "2024-08-01 09:30")]


def test_news_at_a_bar_start_is_too_late_for_that_bar():
    at_17 = news(("2024-07-30T17:00:00-04:00", "AAA", 1, ""), category="earnings")
    result = run(spec(), prices=prices(), events=at_17)
    assert result.run.fills["date"].iloc[0] == local("2024-07-30 18:00")


def test_extended_hours_fills_slip_wider_than_regular_ones():
    costs = {"commission_bps": 0, "slippage_bps": 10, "extended_slippage_bps": 50}
    frames = prices()
    result = run(spec(costs=costs), prices=frames, events=AMD)
    bar = frames["AAA_1h"]
    entry, exit_ = result.run.fills["price"]
    assert entry == pytest.approx(bar_open(bar, "2024-07-30 17:00") * 1.005, abs=1e-9)  # post-market: 50 bps
    assert exit_ == pytest.approx(bar_open(bar, "2024-07-31 09:30") * 0.999, abs=1e-9)  # regular open: 10 bps


def test_returns_are_bar_values_compounded_per_session_against_the_daily_benchmark():
    frames = prices()
    result = run(spec(), prices=frames, events=AMD)
    assert list(result.returns.index) == list(pd.DatetimeIndex(DAYS))
    assert list(result.benchmark_returns.index) == list(result.returns.index)
    fills, bar = result.run.fills, frames["AAA_1h"]
    shares, entry, exit_ = fills["size"].iloc[0], fills["price"].iloc[0], fills["price"].iloc[1]
    last_bar_0730 = bar.loc[pd.Timestamp("2024-07-30 19:00", tz=NEW_YORK), "close"]
    value_0730 = 100_000 - shares * entry + shares * last_bar_0730  # the session's value is its last bar's
    value_0731 = 100_000 + shares * (exit_ - entry)
    assert list(result.equity) == pytest.approx([100_000, value_0730, value_0731, value_0731, value_0731], abs=1e-6)
    assert result.returns.iloc[1] == pytest.approx(value_0730 / 100_000 - 1, abs=1e-12)
    assert np.prod(1 + result.returns) - 1 == pytest.approx(value_0731 / 100_000 - 1, abs=1e-12)


def test_suspect_prints_are_reported_and_clipped_on_request():
    frames = prices()
    bar = frames["AAA_1h"]
    at_18 = pd.Timestamp("2024-07-30 18:00", tz=NEW_YORK)
    bar.loc[at_18, "low"] = 50.0  # a bad post-market print
    kept = run(spec(), prices=frames, events=AMD)
    assert list(kept.run.suspect_prints.index) == [at_18]
    assert kept.run.intraday_bars["AAA"].loc[at_18, "low"] == 50.0
    clipped = run({**spec(), "run": {**spec()["run"], "suspect_prints": "clip"}}, prices=frames, events=AMD)
    assert list(clipped.run.suspect_prints.index) == [at_18]  # still reported
    assert clipped.run.intraday_bars["AAA"].loc[at_18, "low"] == bar.loc[at_18, "open"]


def test_min_reaction_pct_needs_daily_bars():
    with pytest.raises(NewsbtError, match="min_reaction_pct needs daily bars"):
        run(spec(min_reaction_pct=2), prices=prices(), events=AMD)


def test_the_fast_engine_refuses_intraday_bars_in_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[run]\nname = "s"\nstart = 2024-07-29\nend = 2024-08-02\nbenchmark = "BMK"\nbars = "1h"\n'
        '[strategy]\nname = "crash_dip"\ntickers = ["AAA"]\n[sweep]\nengine = "fast"\n'
        'drop_pct = [5, 7]\n', encoding="utf-8")
    with pytest.raises(NewsbtError) as info:
        plan_sweep(path)
    assert str(info.value) == (f'{path}:10: [sweep] engine = "fast" handles daily bars only, not bars = "1h"; '
                               'use engine = "backtrader"')


def test_a_run_on_the_fast_engine_refuses_intraday_bars_at_the_line(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(
        '[run]\nname = "r"\nstart = 2024-07-29\nend = 2024-08-02\nbenchmark = "BMK"\nengine = "fast"\n'
        'bars = "1h"\n[strategy]\nname = "crash_dip"\ntickers = ["AAA"]\n', encoding="utf-8")
    with pytest.raises(NewsbtError) as info:
        load_spec(path)
    assert str(info.value) == (f'{path}:7: [run] bars: engine = "fast" simulates daily bars only; use '
                               'engine = "backtrader" for intraday bars (got \'1h\')')


# --- point in time to the minute ----------------------------------------------------------------

FRAMES = prices()
MINUTES = 4 * 24 * 60  # 2024-07-29 00:00 .. 2024-08-02 00:00 New York time


@st.composite
def minute_news(draw):
    minute = draw(st.integers(0, MINUTES))
    at = pd.Timestamp("2024-07-29 00:00", tz=NEW_YORK) + pd.Timedelta(minutes=minute)
    offset = draw(st.sampled_from((-4.0, 0.0, 8.0)))  # written in New York, UTC or Beijing time
    text = at.tz_convert(dt.timezone(dt.timedelta(hours=offset))).isoformat()
    sessions = draw(st.sampled_from((ALL, ("regular",), ("pre", "regular"), ("regular", "post"))))
    return at, text, sessions


@settings(max_examples=30, deadline=None)
@given(minute_news())
def test_no_fill_comes_at_or_before_available_at_and_entry_is_the_first_bar_after_it(case):
    at, text, sessions = case
    result = run(spec(sessions=sessions), prices=FRAMES, events=news((text, "AAA", 1, ""), category="earnings"))
    starts = FRAMES["AAA_1h"].loc[FRAMES["AAA_1h"]["nyse_session"].isin(sessions)].index
    fills = [pd.Timestamp(t, tz=NEW_YORK) for t in result.run.fills["date"]]
    assert all(fill > at for fill in fills)
    later = starts[starts > at]
    if len(later) and later[0] != starts[0]:
        assert fills[0] == later[0]  # the first bar strictly after the news, to the minute
    else:
        assert fills == []  # public only after the run's last bar, or before its first: not traded


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, MINUTES), min_size=1, max_size=6))
def test_the_intraday_gate_releases_each_event_once_from_the_bar_before_its_first_bar(minutes):
    clock = FRAMES["AAA_1h"].index
    base = pd.Timestamp("2024-07-29 00:00", tz=NEW_YORK)
    events = news(*[((base + pd.Timedelta(minutes=m)).isoformat(), "AAA", 1, "") for m in minutes])
    gate, released, after = NewsGate(events, clock=clock), [], None
    local_clock = clock.tz_localize(None)
    for now, following in zip(local_clock[:-1], local_clock[1:]):
        visible = {n.event.event_id for n in gate.visible(now.to_pydatetime())}
        following_at = following.tz_localize(NEW_YORK)
        assert visible == {e.event_id for e in events if e.available_at < following_at}
        released += [n.event.event_id for n in gate.visible(now.to_pydatetime(), after)]
        after = gate.horizon(now.to_pydatetime())
    public = [e.event_id for e in events if e.available_at < clock[-1]]
    assert sorted(released) == sorted(public)


def test_an_intraday_sweep_runs_through_backtrader_like_single_runs(tmp_path):
    from newsbt.sweep.runner import run_sweep
    from tests.conftest import write_price_files
    from tests.intraday_bars import HEADER, csv_rows, starts

    frames = prices()
    write_price_files(tmp_path / "prices", {"BMK": frames["BMK"]})
    (tmp_path / "bars").mkdir()
    (tmp_path / "bars" / "AAA_1h.csv").write_text("\n".join([HEADER, *csv_rows(starts(DAYS))]) + "\n")
    (tmp_path / "events.csv").write_text(
        "event_id,published_at,tickers,headline,category,direction,source,notes\n"
        "n0,2024-07-30T16:05:00-04:00,AAA,results,earnings,1,src,\n")
    path = tmp_path / "sweep.toml"
    path.write_text(
        f'[run]\nname = "s"\nstart = {DAYS[0]}\nend = {DAYS[-1]}\nbenchmark = "BMK"\nbars = "1h"\n'
        f'sessions = ["pre", "regular", "post"]\nintraday_dir = "{tmp_path / "bars"}"\n'
        f'events = "{tmp_path / "events.csv"}"\n'
        '[strategy]\nname = "news_reaction"\ntickers = ["AAA"]\nmode = "follow"\n'
        '[sweep]\nhold_days = [1, 2]\n', encoding="utf-8")
    outcome = run_sweep(plan_sweep(path), tmp_path / "prices", tmp_path / "reports", workers=1)
    table = outcome.table.sort_values("hold_days")
    assert table["error"].isna().all() and list(table["trades"]) == [1, 1]
    single = run(spec(hold_days=1, position_pct=20), prices=frames, events=AMD)
    assert table["final_value"].iloc[0] == pytest.approx(single.run.equity.iloc[-1], abs=1e-6)
