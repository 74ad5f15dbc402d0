"""Run one backtest: validated frames -> feeds -> Cerebro -> recorder -> a frozen ``RunResult``.

The engine reads no files and writes none: prices come in as validated frames, results go out as
pandas objects. Orders placed on bar t fill at the open of bar t+1 (backtrader's default).

Intraday runs (``[run] bars = "1h"`` etc.) trade each strategy ticker's bars of the chosen sessions,
read from ``prices["NVDA_1h"]`` (:func:`newsbt.data.intraday.intraday_key`); the benchmark stays
daily (its daily file). The portfolio value is recorded at every bar and its last value of each New
York day closes that session, so the returns handed to metrics and QuantStats are the bar returns
compounded per session, on the same dates as the benchmark's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from newsbt.backtest.costs import SessionBroker, configure
from newsbt.core.errors import NewsbtError
from newsbt.backtest.feeds import make_feed, make_intraday_feed, window
from newsbt.backtest.registry import get_strategy
from newsbt.backtest.spec import BacktestSpec
from newsbt.backtest.strategy import Recorder, StrategyParams
from newsbt.backtest.trades import round_trips
from newsbt.data.intraday import apply_print_policy, intraday_key, session_window, suspect_prints


@dataclass(frozen=True)
class RunResult:
    """Everything one backtest produced, as plain pandas objects."""

    spec: BacktestSpec
    params: StrategyParams
    returns: pd.Series  # daily portfolio returns, indexed by session date
    benchmark_returns: pd.Series  # the benchmark's daily total returns on the same dates
    equity: pd.Series  # portfolio value at each close
    gross_exposure: pd.Series  # sum of |position value| at each close
    fills: pd.DataFrame
    trades: pd.DataFrame  # closed round trips
    open_positions: pd.DataFrame  # positions still open at the last bar
    refused_orders: pd.DataFrame  # orders the broker refused (e.g. not enough cash at the open)
    borrow_charges: pd.DataFrame  # short borrow fees debited: ticker, date, days, short_value, fee
    cash_interest: float  # interest credited on cash over the run
    idle_tickers: tuple[str, ...]  # requested tickers with no bar inside the run's dates
    closes: pd.DataFrame  # close of each traded ticker on the run's sessions (for charts)
    events: tuple = ()  # the news events the strategy was given
    suspect_prints: pd.DataFrame | None = None  # intraday: flagged extended-hours bars of the run
    intraday_bars: Mapping[str, pd.DataFrame] | None = None  # intraday: each ticker's bars as traded


def strategy_tickers(spec: BacktestSpec, strategy_cls: type | None = None) -> list[str]:
    """The tickers the strategy trades or reads (intraday runs need their bars)."""
    return (strategy_cls or get_strategy(spec.strategy.name)).Params.model_validate(
        spec.strategy.params).required_tickers()


def required_tickers(spec: BacktestSpec, strategy_cls: type | None = None) -> list[str]:
    """Every ticker a run needs prices for: the strategy's plus the benchmark."""
    params = (strategy_cls or get_strategy(spec.strategy.name)).Params.model_validate(spec.strategy.params)
    return list(dict.fromkeys([*params.required_tickers(), *spec.run.benchmark_weights]))


def run_backtest(
    spec: BacktestSpec,
    prices: Mapping[str, pd.DataFrame],
    events: Sequence[Any] = (),
    strategy_cls: type | None = None,
    signals: pd.DataFrame | None = None,
) -> RunResult:
    """Run ``spec`` on ``prices`` (ticker -> validated frame); ``events`` and the headline-store
    ``signals`` (``newsbt.data.news.signals``) go to the strategy's news gate as they are."""
    cls = strategy_cls or get_strategy(spec.strategy.name)
    params = cls.Params.model_validate(spec.strategy.params)
    frames = {t: _run_bars(spec, prices, t) for t in params.required_tickers()}
    traded = {t: f for t, f in frames.items() if len(f)}
    if not traded:
        raise NewsbtError(f"no prices for {', '.join(frames)} between {spec.run.start} and {spec.run.end}")

    intraday = spec.run.intraday
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    if intraday:
        cerebro.broker = SessionBroker()
    cerebro.broker.setcash(spec.run.cash)
    cost_model = configure(cerebro, spec.costs)
    for ticker, frame in traded.items():
        cerebro.adddata((make_intraday_feed if intraday else make_feed)(frame, ticker), name=ticker)
    clock = bar_clock(traded.values()) if intraday else None
    cerebro.addstrategy(cls, config=params, events=tuple(events), signals=signals, clock=clock)
    cerebro.addanalyzer(Recorder, _name="recorder", intraday=intraday)
    record = cerebro.run()[0].analyzers.recorder.get_analysis()
    record["borrow"] = cost_model.borrow_charges
    record["cash_interest"] = sum(c["interest"] for c in cost_model.cash_credits)
    closes = pd.DataFrame({t: f["close"] for t, f in traded.items()})
    result = collect_result(spec, params, record, prices, idle=tuple(t for t in frames if t not in traded),
                            closes=closes, events=tuple(events))
    if intraday:
        flagged = [suspect_prints(_raw_bars(spec, prices, t)).assign(ticker=t) for t in traded]
        result = dataclasses.replace(result, suspect_prints=pd.concat(flagged), intraday_bars=traded)
    return result


def bar_clock(frames: Iterable[pd.DataFrame]) -> pd.DatetimeIndex:
    """Every bar start of the run's feeds, sorted and unique (tz-aware New York): the intraday news
    gate's grid, which is backtrader's own clock over those feeds."""
    starts = pd.DatetimeIndex([])
    for frame in frames:
        starts = starts.union(frame.index) if len(starts) else frame.index
    return starts.unique().sort_values()


def _raw_bars(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], ticker: str) -> pd.DataFrame:
    """A ticker's intraday bars of the run's days and sessions, as the file holds them."""
    frame = prices_of(prices, intraday_key(ticker, spec.run.bars))
    return session_window(frame, spec.run.start, spec.run.end, spec.run.sessions)


def _run_bars(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], ticker: str) -> pd.DataFrame:
    """The bars a ticker trades on: daily rows in the run's dates, or intraday bars of the chosen
    sessions with the ``suspect_prints`` policy applied."""
    if not spec.run.intraday:
        return window(prices_of(prices, ticker), spec.run.start, spec.run.end)
    return apply_print_policy(_raw_bars(spec, prices, ticker), spec.run.suspect_prints)


def prices_of(prices: Mapping[str, pd.DataFrame], ticker: str) -> pd.DataFrame:
    """``prices[ticker]``, or a clear error when that ticker was never loaded."""
    if ticker not in prices:
        raise NewsbtError(f"no prices were loaded for {ticker}")
    return prices[ticker]


def collect_result(spec: BacktestSpec, params: StrategyParams, record: dict[str, Any],
                   prices: Mapping[str, pd.DataFrame], idle: tuple[str, ...], closes: pd.DataFrame,
                   events: tuple) -> RunResult:
    """Build the result from a recorder's log (``fills``, ``refused``, ``bars``, ``borrow``,
    ``cash_interest``); shared with the compiled engine (``newsbt.backtest.fast``), which writes the same log."""
    bars = pd.DataFrame(record["bars"]).set_index("date")
    bars.index = pd.DatetimeIndex(pd.to_datetime(bars.index), name="date")
    if spec.run.intraday:  # a session's value is its last bar's: bar returns compound per session
        bars = bars.groupby(bars.index.normalize().rename("date")).last()
    equity = bars["value"].rename("equity")
    returns = daily_returns(equity, spec.run.cash)
    fills = pd.DataFrame(record["fills"], columns=["ticker", "date", "size", "price", "bar_open", "commission"])
    borrow = pd.DataFrame(record["borrow"], columns=["ticker", "date", "days", "short_value", "fee"])
    trades, open_positions = round_trips(fills, borrow)
    return RunResult(
        spec=spec,
        params=params,
        returns=returns.rename("strategy"),
        benchmark_returns=blended_returns(prices, spec.run.benchmark_weights, returns.index).rename(
            spec.run.benchmark_label),
        equity=equity,
        gross_exposure=bars["gross_exposure"],
        fills=fills,
        trades=trades,
        open_positions=open_positions,
        refused_orders=pd.DataFrame(record["refused"], columns=["ticker", "placed_date", "size", "reason"]),
        borrow_charges=borrow,
        cash_interest=record["cash_interest"],
        idle_tickers=idle,
        closes=closes,
        events=events,
    )


def daily_returns(equity: pd.Series, cash: float) -> pd.Series:
    """Close-to-close returns of the portfolio; the first session's is counted from the starting cash."""
    return pd.Series(returns_of(equity.to_numpy(dtype=float), cash), index=equity.index, name=equity.name)


def returns_of(equity: np.ndarray, cash: float) -> np.ndarray:
    """:func:`daily_returns` of a bare array of closing values (what a sweep row needs)."""
    returns = np.empty_like(equity)
    returns[0] = equity[0] / cash - 1.0
    returns[1:] = equity[1:] / equity[:-1] - 1.0
    return returns


def blended_returns(prices: Mapping[str, pd.DataFrame], weights: Mapping[str, float],
                    dates: pd.DatetimeIndex) -> pd.Series:
    """Daily returns of a benchmark blend rebalanced to ``weights`` every session."""
    return sum(w * benchmark_returns(prices, t, dates) for t, w in weights.items())


def benchmark_returns(prices: Mapping[str, pd.DataFrame], ticker: str, dates: pd.DatetimeIndex) -> pd.Series:
    """The benchmark's daily total return (from ``adj_close``) on exactly ``dates``; gaps are errors.

    Like the strategy's capital, the benchmark is counted from the first session's close, so its
    first return is 0 and each later one is close-to-close between consecutive run sessions.
    """
    closes = prices_of(prices, ticker)["adj_close"]
    missing = dates.difference(closes.index)
    if len(missing):
        shown = ", ".join(str(d.date()) for d in missing[:5])
        raise NewsbtError(
            f"benchmark {ticker} has no return on {len(missing)} session(s) of the run ({shown}"
            f"{', ...' if len(missing) > 5 else ''}); pick another benchmark or dates it covers"
        )
    returns = closes.reindex(dates).pct_change()
    returns.iloc[0] = 0.0
    return returns.rename(ticker)
