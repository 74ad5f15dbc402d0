"""news_reaction: entries land exactly on each event's first tradable open, on real NYSE sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest

from newsbt.api import Result, run
from newsbt.data.calendar import map_event, nyse_calendar
from newsbt.data.events import COLUMNS, Event, parse_events
from strategies.news_reaction import reaction_confirms, trade_side
from tests.synthetic import bars

ROOT = Path(__file__).resolve().parents[1]
SESS = nyse_calendar().sessions_in_range("2025-01-02", "2025-02-28")  # 2025-01-09 and 01-20 are closed
DAY = {d.date(): i for i, d in enumerate(SESS)}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def flat(moves: Mapping[str, tuple[float, float]] = {}, dates: Sequence = SESS) -> pd.DataFrame:
    """A ticker at 100 (open and close) on ``dates``, except the sessions in ``moves``: (open, close)."""
    rows = [moves.get(str(day.date()), (100.0, 100.0)) for day in dates]
    return bars([o for o, _ in rows], [c for _, c in rows], dates=dates)


def prices(**tickers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The given frames plus a benchmark BMK rising 0.1 % a session."""
    closes = [100 * 1.001**i for i in range(len(SESS))]
    return {**tickers, "BMK": bars([100, *closes[:-1]], closes, dates=SESS)}


def news(*rows: tuple[str, str, int, str], category: str = "market_move") -> tuple[Event, ...]:
    """Events from (available_at, tickers, direction, published_at or ""); ids n0, n1, ..."""
    lines = [",".join(COLUMNS)]
    for i, (available, tickers, direction, published) in enumerate(rows):
        lines.append(f"n{i},{published or available},{available},{tickers},headline {i},{category},{direction},src,")
    return parse_events("\n".join(lines), known_tickers={"AAA", "BBB", "CCC"})


def spec(**strategy) -> dict:
    return {
        "run": {"name": "news", "start": "2025-01-02", "end": "2025-02-28", "cash": 100_000, "benchmark": "BMK"},
        "strategy": {"name": "news_reaction", "tickers": ["AAA"], "mode": "fade", "hold_days": 2,
                     "position_pct": 20, **strategy},
        "costs": {"commission_bps": 0, "slippage_bps": 0},
    }


def backtest(events: Sequence[Event], frames: dict[str, pd.DataFrame] | None = None, **strategy) -> Result:
    return run(spec(**strategy), prices=frames or prices(AAA=flat()), events=events)


def entries(result: Result) -> list[tuple[str, dt.date, int]]:
    """(ticker, date, signed size) of every fill that opened a position."""
    fills = result.run.fills
    opened = fills.groupby("ticker").cumcount() % 2 == 0  # entries and exits alternate per ticker
    return list(fills.loc[opened, ["ticker", "date", "size"]].itertuples(index=False, name=None))


@pytest.mark.parametrize("available_at, first_bar", [
    ("2025-01-14T08:00:00-05:00", "2025-01-14"),  # pre-market: that session's open
    ("2025-01-14T09:30:00-05:00", "2025-01-15"),  # exactly at the open: too late for it
    ("2025-01-14T11:00:00-05:00", "2025-01-15"),  # regular hours
    ("2025-01-15T16:00:00-05:00", "2025-01-16"),  # at the close
    ("2025-01-15T16:05:00-05:00", "2025-01-16"),  # just after the close
    ("2025-01-17T19:00:00-05:00", "2025-01-21"),  # Friday evening, Monday 01-20 is a holiday (MLK)
    ("2025-01-26T15:00:00Z", "2025-01-27"),  # Sunday, in UTC
    ("2025-01-25T12:00:00+08:00", "2025-01-27"),  # Saturday in Beijing = Friday 23:00 in New York
    ("2025-01-09T10:00:00-05:00", "2025-01-10"),  # NYSE closed (national day of mourning)
    ("2025-01-08T20:00:00-05:00", "2025-01-10"),  # the evening before that closed day
    ("2025-01-22T14:31:00Z", "2025-01-23"),  # 09:31 New York time, written in UTC
])
def test_entry_fills_exactly_at_the_first_bar(available_at, first_bar):
    result = backtest(news((available_at, "AAA", -1, "")))
    assert map_event(pd.Timestamp(available_at)).first_bar.date() == d(first_bar)
    assert entries(result) == [("AAA", d(first_bar), 200)]  # fade -1 = buy 20 % of 100,000 at 100
    trade = result.trades.iloc[0]
    assert (trade["entry_date"], trade["exit_date"]) == (d(first_bar), SESS[DAY[d(first_bar)] + 2].date())


@pytest.mark.parametrize("mode, direction, side", [("fade", -1, 1), ("fade", 1, -1), ("follow", 1, 1),
                                                    ("follow", -1, -1)])
def test_follow_goes_with_the_news_and_fade_against_it(mode, direction, side):
    result = backtest(news(("2025-01-15T16:05:00-05:00", "AAA", direction, "")), mode=mode)
    assert entries(result) == [("AAA", d("2025-01-16"), side * 200)]  # shorts: 20 % notional at the close
    assert result.trades["size"].tolist() == [side * 200]


def test_hold_days_counts_sessions_and_skips_closed_days():
    result = backtest(news(("2025-01-09T10:00:00-05:00", "AAA", -1, "")), hold_days=3)
    trade = result.trades.iloc[0]
    assert (trade["entry_date"], trade["exit_date"]) == (d("2025-01-10"), d("2025-01-15"))


@pytest.mark.parametrize("published_at, move, entry", [
    ("2025-01-14T08:00:00-05:00", (100, 90), "2025-01-15"),  # reaction day 01-14 = first bar: one later
    ("2025-01-15T16:05:00-05:00", None, "2025-01-17"),  # reaction day 01-16 (the move below)
])
def test_a_confirmed_reaction_is_entered_the_session_after_the_reaction_day(published_at, move, entry):
    aaa = flat({"2025-01-14": move or (100, 100), "2025-01-16": (100, 90)})
    result = backtest(news((published_at, "AAA", -1, "")), prices(AAA=aaa), min_reaction_pct=5)
    assert entries(result) == [("AAA", d(entry), 222)]  # 20,000 at the 90 close


def test_the_reaction_check_uses_published_at_and_entry_waits_for_available_at():
    # Published pre-market on 01-14 (reaction day 01-14), only available after the 01-16 close.
    event = news(("2025-01-16T18:00:00-05:00", "AAA", -1, "2025-01-14T08:00:00-05:00"))
    result = backtest(event, prices(AAA=flat({"2025-01-14": (100, 90)})), min_reaction_pct=5)
    assert entries(result) == [("AAA", d("2025-01-17"), 200)]


@pytest.mark.parametrize("move", [(100, 97), (100, 110)])  # too small; the wrong way for a -1 event
def test_an_unconfirmed_reaction_is_not_traded(move):
    result = backtest(news(("2025-01-14T08:00:00-05:00", "AAA", -1, "")), prices(AAA=flat({"2025-01-14": move})),
                      min_reaction_pct=5)
    assert result.run.fills.empty


def test_reaction_confirms_in_the_direction_of_the_news():
    assert reaction_confirms(-0.08, -1, 5) and reaction_confirms(0.08, 1, 5)
    assert not reaction_confirms(0.08, -1, 5) and not reaction_confirms(-0.04, -1, 5)
    assert not reaction_confirms(None, -1, 5) and reaction_confirms(None, -1, None)
    assert [trade_side(s, m) for s in (-1, 0, 1) for m in (True, False)] == [-1, 1, 0, 0, 1, -1]


@pytest.mark.parametrize("event, params", [
    (("2025-01-15T16:05:00-05:00", "BBB", -1, ""), {}),  # a ticker outside the universe
    (("2025-01-15T16:05:00-05:00", "AAA", 0, ""), {"directions": [-1, 0, 1]}),  # no direction: no side
    (("2025-01-15T16:05:00-05:00", "AAA", 1, ""), {"directions": [-1]}),
    (("2025-01-15T16:05:00-05:00", "AAA", -1, ""), {"categories": ["earnings"]}),
    (("2025-01-02T08:00:00-05:00", "AAA", -1, ""), {}),  # first tradable at the run's first open
])
def test_events_the_parameters_do_not_select_are_ignored(event, params):
    assert backtest(news(event), prices(AAA=flat(), BBB=flat()), **params).run.fills.empty


def test_each_listed_universe_ticker_trades_once_and_a_held_ticker_skips_news():
    events = news(
        ("2025-01-02T16:05:00-05:00", "AAA;BBB;CCC", -1, ""),  # decided at the first close: 01-03
        ("2025-01-03T16:05:00-05:00", "AAA", -1, ""),  # AAA is held: skipped, not queued
    )
    result = backtest(events, prices(AAA=flat(), BBB=flat()), tickers=["AAA", "BBB"], hold_days=5)
    assert entries(result) == [("AAA", d("2025-01-03"), 200), ("BBB", d("2025-01-03"), 200)]


def test_a_missing_bar_delays_the_fill_never_advances_it():
    aaa = flat(dates=SESS.drop(pd.Timestamp("2025-01-16")))
    result = backtest(news(("2025-01-15T16:05:00-05:00", "AAA", -1, "")), prices(AAA=aaa))
    assert entries(result) == [("AAA", d("2025-01-17"), 200)]


def test_deepseek_shock_is_faded_at_the_next_open(real_data_dir, monkeypatch):
    monkeypatch.chdir(ROOT)  # [run] events is a path relative to the working directory
    result = run(ROOT / "backtests" / "deepseek_fade.toml", data_dir=real_data_dir)
    fills = result.run.fills
    assert fills[["ticker", "date", "bar_open"]].values.tolist() == [
        ["NVDA", d("2025-01-28"), 121.81], ["NVDA", d("2025-01-29"), 126.5]]
    assert fills["size"].tolist()[0] > 0 and fills["size"].sum() == 0
    assert result.trades[["entry_date", "exit_date"]].values.tolist() == [[d("2025-01-28"), d("2025-01-29")]]
