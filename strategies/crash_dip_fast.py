"""crash_dip without Cerebro: the same orders, fills and equity, replayed on plain arrays (``engine = "fast"``).

backtrader stays the reference. This module replays, session by session, what ``CrashDip`` on
``NewsbtStrategy`` does inside backtrader's ``BackBroker`` (runonce, quicknotify), with the same
floating-point operations in the same order, so that sizes, fills and values come out bit for bit
equal; ``tests/test_crash_dip_fast.py`` checks it on whole grids against backtrader itself:

* the calendar is the union of the traded tickers' sessions; each ticker has a bar only on its own;
* orders placed at a close are first checked against the cash at their created price (backtrader's
  ``check_submitted``), then filled at the open of the ticker's next bar with slippage; a buy the cash
  cannot cover at that open is refused (``Margin``) and recorded, never dropped;
* the strategy sees the portfolio value and the cash after the session's fills, sizes whole shares
  against cash not yet promised to pending buys, and decides with the strategy's own ``is_crash``
  and ``exit_due``;
* commission and slippage come from a broker configured by ``newsbt.costs.configure``, as in a
  backtrader run, and sizing is ``NewsbtStrategy``'s own code; cash interest, which backtrader books
  through an analyzer each session, is not replayed and is refused.

Its output is the Recorder's record, turned into a ``RunResult`` by the engine's own collector.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import backtrader as bt
import numpy as np
import pandas as pd

from newsbt.backtest.costs import configure
from newsbt.backtest.engine import RunResult, collect_result, prices_of
from newsbt.core.errors import NewsbtError
from newsbt.backtest.feeds import window
from newsbt.backtest.spec import BacktestSpec, CostSpec
from newsbt.backtest.strategy import NewsbtStrategy
from strategies.crash_dip import CrashDip, exit_due, is_crash

REPLAYED_PARAMS = {"tickers", "drop_pct", "hold_days", "position_pct", "take_profit_pct", "stop_loss_pct"}


@dataclass(frozen=True)
class Market:
    """The traded tickers on their union calendar (sessions x tickers), built once and reused per sweep."""

    tickers: tuple[str, ...]  # tickers with bars in the run's dates, in the strategy's order
    idle: tuple[str, ...]  # requested tickers without any bar in the run's dates
    dates: tuple[dt.date, ...]
    opens: list[list[float]]  # NaN where the ticker has no bar
    closes: list[list[float]]  # the ticker's last close so far (what backtrader values positions at)
    count: list[list[int]]  # the ticker's own bars so far (backtrader's len(data))
    prev_close: np.ndarray  # the ticker's previous own close on its bars, NaN elsewhere
    close_on_bar: np.ndarray  # the close on the ticker's bars, NaN elsewhere
    position_order: tuple[int, ...]  # the order backtrader's broker first meets each ticker's position
    close_frame: pd.DataFrame  # closes of the traded tickers on their own sessions (RunResult.closes)


def build_market(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], tickers: Sequence[str]) -> Market:
    """Align the tickers' bars between the run's dates on one calendar (as Cerebro's runonce loop does)."""
    frames = {t: window(prices_of(prices, t), spec.run.start, spec.run.end) for t in tickers}
    traded = [t for t in tickers if len(frames[t])]
    if not traded:
        raise NewsbtError(f"no prices for {', '.join(frames)} between {spec.run.start} and {spec.run.end}")
    calendar = frames[traded[0]].index
    for t in traded[1:]:
        calendar = calendar.union(frames[t].index)
    shape = (len(calendar), len(traded))
    opens, closes, prev = (np.full(shape, np.nan) for _ in range(3))
    count = np.zeros(shape, dtype=np.int64)
    for j, t in enumerate(traded):
        rows = calendar.get_indexer(frames[t].index)
        opens[rows, j], closes[rows, j] = frames[t]["open"].to_numpy(), frames[t]["close"].to_numpy()
        prev[rows[1:], j] = closes[rows[:-1], j]
        count[rows, j] = np.arange(1, len(rows) + 1)
    first_day = [j for j in range(len(traded)) if count[0, j]]
    return Market(
        tickers=tuple(traded), idle=tuple(t for t in tickers if t not in traded),
        dates=tuple(d.date() for d in calendar), opens=opens.tolist(),
        closes=pd.DataFrame(closes).ffill().to_numpy().tolist(),
        count=np.maximum.accumulate(count, axis=0).tolist(), prev_close=prev, close_on_bar=closes,
        # the strategy touches the positions of tickers with a first-session bar, the Recorder the rest
        position_order=tuple(first_day + [j for j in range(len(traded)) if j not in first_day]),
        close_frame=pd.DataFrame({t: frames[t]["close"] for t in traded}),
    )


def configured_broker(costs: CostSpec) -> bt.brokers.BackBroker:
    """A broker with exactly the commission and slippage a backtrader run of the same spec gets."""
    if costs.cash_interest_pct:
        raise NewsbtError('engine "fast" does not replay cash interest; use engine "backtrader"')
    cerebro = bt.Cerebro()
    configure(cerebro, costs)
    return cerebro.broker


def run_fast(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], market: Market | None = None) -> RunResult:
    """crash_dip on ``prices`` without backtrader; ``market`` (from ``build_market``) skips the alignment."""
    if spec.strategy.name != "crash_dip":
        raise NewsbtError(f'engine "fast" only runs crash_dip, not {spec.strategy.name!r}; use engine "backtrader"')
    unknown = set(CrashDip.Params.model_fields) - REPLAYED_PARAMS
    if unknown:  # crash_dip grew a rule this replay does not know: refuse rather than differ silently
        raise NewsbtError(f'engine "fast" does not replay crash_dip\'s {", ".join(sorted(unknown))}; '
                          'use engine "backtrader"')
    params = CrashDip.Params.model_validate(spec.strategy.params)
    market = market or build_market(spec, prices, params.required_tickers())
    replay = Replay(market, params, configured_broker(spec.costs), spec.run.cash)
    crashes = crash_lists(market, params.drop_pct)
    for i in range(len(market.dates)):
        replay.session(i, crashes[i])
    record = {"fills": replay.fills, "refused": replay.refused, "bars": replay.bars, "borrow": [], "cash_interest": 0.0}
    return collect_result(spec, params, record, prices, idle=market.idle, closes=market.close_frame, events=())


def crash_lists(market: Market, drop_pct: float) -> list[list[int]]:
    """Per session, the tickers whose bar is a crash (the strategy's own ``is_crash``, on whole arrays)."""
    with np.errstate(invalid="ignore"):  # NaN (no bar, or a ticker's first bar) compares False
        hits = is_crash(market.prev_close, market.close_on_bar, drop_pct)
    days, tickers = np.nonzero(hits)
    out: list[list[int]] = [[] for _ in market.dates]
    for i, j in zip(days.tolist(), tickers.tolist()):
        out[i].append(j)
    return out


@dataclass
class Order:
    ticker: int
    size: int
    day: int  # session the order was placed on
    price: float  # the close it was placed at (backtrader's ``created.price``)
    reserved: float  # cash the strategy set aside for it


@dataclass(frozen=True)
class Bar:
    """Just enough of a backtrader data feed for NewsbtStrategy's sizing code: today's close, a name."""

    close: tuple[float]
    _name: str


class Replay:
    """Broker and strategy state of one run, stepped one session at a time.

    Cash lives in a real, configured ``BackBroker`` (only as storage and for its commission scheme and
    slippage setting), and sizing is NewsbtStrategy's own code, borrowed below: the replay can only
    differ from backtrader where it re-states the broker's fill and valuation arithmetic.
    """

    affordable_shares = NewsbtStrategy.affordable_shares
    _buy_cost = NewsbtStrategy._buy_cost

    def __init__(self, market: Market, params: CrashDip.Params, broker: bt.brokers.BackBroker, cash: float):
        self.market, self.config, self.broker = market, params, broker
        self.broker.cash = float(cash)
        self._reserved_cash = 0.0
        self.value = 0.0
        self.size: dict[int, int] = {}  # open positions: ticker -> shares
        self.cost: dict[int, float] = {}  # open positions: ticker -> fill price
        self.entries: dict[int, tuple[int, float]] = {}  # ticker -> (bars at entry, entry price)
        self.pending: dict[int, Order] = {}
        self.submitted: list[Order] = []
        self.accepted: list[Order] = []
        self.fills: list[dict] = []
        self.refused: list[dict] = []
        self.bars: list[dict] = []

    def session(self, i: int, crashes: list[int]) -> None:
        """Broker first (checks, fills, valuation), then notifications, the strategy and the Recorder."""
        notes = self.check_submitted() + self.execute_accepted(i)
        self.value = self.broker.cash + self.positions_value(i)
        for order, price, commission in notes:
            self.notify(i, order, price, commission)
        self.decide(i, crashes)
        positions = [self.size[j] * self.market.closes[i][j] for j in sorted(self.size) if self.size[j]]
        self.bars.append({"date": self.market.dates[i], "value": self.broker.cash + sum(positions),
                          "cash": self.broker.cash, "gross_exposure": sum(abs(v) for v in positions)})

    def commission(self, j: int, size: int, price: float) -> float:
        return self.broker.getcommissioninfo(Bar((math.nan,), self.market.tickers[j])).getcommission(size, price)

    def check_submitted(self) -> list[tuple[Order, None, None]]:
        """Pseudo-execute new orders at their created price against running cash; refuse those it overdraws."""
        cash, refused = self.broker.cash, []
        for order in self.submitted:
            value = abs(order.size) * order.price
            cash = cash + value if order.size < 0 else cash - value
            cash -= self.commission(order.ticker, order.size, order.price)
            if cash >= 0.0:
                self.accepted.append(order)
            else:
                refused.append((order, None, None))
        self.submitted = []
        return refused

    def execute_accepted(self, i: int) -> list[tuple[Order, float | None, float | None]]:
        """Fill, in submission order, the accepted orders whose ticker has a bar today, at its open."""
        done, waiting = [], []
        for order in self.accepted:
            if math.isnan(self.market.opens[i][order.ticker]):
                waiting.append(order)
            else:
                done.append((order, *self.fill(i, order)))
        self.accepted = waiting
        return done

    def fill(self, i: int, order: Order) -> tuple[float | None, float | None]:
        """(price, commission) of the fill, or (None, None) when the cash cannot cover a buy."""
        j, size, open_ = order.ticker, order.size, self.market.opens[i][order.ticker]
        slip = self.broker.p.slip_perc
        if size > 0:
            price = open_ * (1 + slip) if slip else open_
            commission = self.commission(j, size, price)
            cash = self.broker.cash - size * price - commission
            if cash < 0.0:
                return None, None
            self.broker.cash, self.size[j], self.cost[j] = cash, size, price
            return price, commission
        price = open_ * (1 - slip) if slip else open_
        held, entry = self.size.pop(j), self.cost.pop(j)
        commission = self.commission(j, size, price)
        self.broker.cash = self.broker.cash + (held * entry + held * (price - entry) * 1.0) - commission
        return price, commission

    def positions_value(self, i: int) -> float:
        """backtrader's ``_get_value``: per position, value less unrealised gain, plus the gain, in its order."""
        total = 0.0
        for j in self.market.position_order:
            if j in self.size:
                value = self.size[j] * self.market.closes[i][j]
                gain = self.size[j] * (self.market.closes[i][j] - self.cost[j]) * 1.0
                total = total + (value - gain) + gain if value > 0 else total + value
        return total

    def notify(self, i: int, order: Order, price: float | None, commission: float | None) -> None:
        """What NewsbtStrategy, CrashDip and the Recorder do on a completed or refused order."""
        j, name = order.ticker, self.market.tickers[order.ticker]
        del self.pending[j]
        self._reserved_cash -= order.reserved
        if price is None:
            self.refused.append({"ticker": name, "placed_date": self.market.dates[order.day],
                                 "size": order.size, "reason": "Margin"})
            return
        executed = order.size * price / order.size  # backtrader's size-weighted average of one fill
        if order.size > 0:
            self.entries[j] = (self.market.count[i][j], executed)
        self.fills.append({"ticker": name, "date": self.market.dates[i], "size": order.size, "price": executed,
                           "bar_open": self.market.opens[i][j], "commission": 0.0 + commission})

    def decide(self, i: int, crashes: list[int]) -> None:
        """CrashDip.next: exits of held tickers and entries on crashes, in the tickers' order."""
        closes, count = self.market.closes[i], self.market.count[i]
        for j in sorted({*self.size, *crashes}):
            if j in self.pending or math.isnan(self.market.opens[i][j]):
                continue
            bar = Bar((closes[j],), self.market.tickers[j])
            if j in self.size:
                entry_count, entry_price = self.entries[j]
                if exit_due(count[j] - entry_count, entry_price, closes[j], self.config):
                    self.submit(i, j, bar, -self.size[j])
            else:
                target = self.value * self.config.position_pct / 100.0
                self.submit(i, j, bar, self.affordable_shares(bar, target))

    def submit(self, i: int, j: int, bar: Bar, size: int) -> None:
        """NewsbtStrategy.submit: a market order for the next open; buys set their cost aside."""
        if size == 0:
            return
        order = Order(j, size, i, bar.close[0], self._buy_cost(bar, size) if size > 0 else 0.0)
        self.pending[j] = order
        self.submitted.append(order)
        self._reserved_cash += order.reserved


@dataclass
class FastRunner:
    """``run_fast`` with each ticker set's market aligned once: what a sweep worker keeps between runs."""

    prices: Mapping[str, pd.DataFrame]
    markets: dict[tuple, Market] = field(default_factory=dict)

    def __call__(self, spec: BacktestSpec) -> RunResult:
        tickers = tuple(CrashDip.Params.model_validate(spec.strategy.params).required_tickers())
        key = (tickers, spec.run.start, spec.run.end)
        if key not in self.markets:
            self.markets[key] = build_market(spec, self.prices, tickers)
        return run_fast(spec, self.prices, self.markets[key])
