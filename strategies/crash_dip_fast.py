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
* commission, slippage and the sizing factor come from the very objects a backtrader run uses
  (``newsbt.costs.configure`` and ``NewsbtStrategy._cost_factor``); cash interest, which backtrader
  books through an analyzer each session, is not replayed and is refused.

Its output is the Recorder's record, turned into a ``RunResult`` by the engine's own collector.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import backtrader as bt
import numpy as np
import pandas as pd

from newsbt.costs import configure
from newsbt.engine import RunResult, _collect, _frame
from newsbt.errors import NewsbtError
from newsbt.feeds import window
from newsbt.spec import BacktestSpec, CostSpec
from newsbt.strategy import NewsbtStrategy
from strategies.crash_dip import CrashDip, exit_due, is_crash


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


@dataclass(frozen=True)
class Costs:
    """The broker's cost arithmetic, taken from the objects a backtrader run configures."""

    slip: float
    factor: float  # the strategy's sizing multiplier (slippage + commission)
    commission: Callable[[float, float], float]


def build_market(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], tickers: Sequence[str]) -> Market:
    """Align the tickers' bars between the run's dates on one calendar (as Cerebro's runonce loop does)."""
    frames = {t: window(_frame(prices, t), spec.run.start, spec.run.end) for t in tickers}
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
    )


def broker_costs(costs: CostSpec) -> Costs:
    """Commission, slippage and sizing factor exactly as a backtrader run of the same spec sets them."""
    if costs.cash_interest_pct:
        raise NewsbtError('engine "fast" does not replay cash interest; use engine "backtrader"')
    cerebro = bt.Cerebro()
    model = configure(cerebro, costs)
    probe = SimpleNamespace(broker=cerebro.broker, datas=[SimpleNamespace(_name=None)])
    return Costs(cerebro.broker.p.slip_perc, NewsbtStrategy._cost_factor(probe), model.getcommission)


def run_fast(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], market: Market | None = None) -> RunResult:
    """crash_dip on ``prices`` without backtrader; ``market`` (from ``build_market``) skips the alignment."""
    if spec.strategy.name != "crash_dip":
        raise NewsbtError(f'engine "fast" only runs crash_dip, not {spec.strategy.name!r}; use engine "backtrader"')
    params = CrashDip.Params.model_validate(spec.strategy.params)
    market = market or build_market(spec, prices, params.required_tickers())
    replay = Replay(market, params, broker_costs(spec.costs), spec.run.cash)
    crashes = crash_lists(market, params.drop_pct)
    for i in range(len(market.dates)):
        replay.session(i, crashes[i])
    record = {"fills": replay.fills, "refused": replay.refused, "bars": replay.bars, "borrow": [], "cash_interest": 0.0}
    return _collect(spec, params, record, prices, idle=market.idle)


def crash_lists(market: Market, drop_pct: float) -> list[list[int]]:
    """Per session, the tickers whose bar is a crash (the strategy's own ``is_crash``, on whole arrays)."""
    with np.errstate(invalid="ignore"):
        hits = is_crash(market.prev_close, market.close_on_bar, drop_pct) & ~np.isnan(market.prev_close)
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


@dataclass
class Replay:
    """Broker and strategy state of one run, stepped one session at a time."""

    market: Market
    p: CrashDip.Params
    costs: Costs
    cash: float
    reserved: float = 0.0
    value: float = 0.0
    size: dict[int, int] = field(default_factory=dict)  # open positions: ticker -> shares
    cost: dict[int, float] = field(default_factory=dict)  # open positions: ticker -> fill price
    entries: dict[int, tuple[int, float]] = field(default_factory=dict)  # ticker -> (bars at entry, price)
    pending: dict[int, Order] = field(default_factory=dict)
    submitted: list[Order] = field(default_factory=list)
    accepted: list[Order] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    bars: list[dict] = field(default_factory=list)

    def session(self, i: int, crashes: list[int]) -> None:
        """Broker first (checks, fills, valuation), then notifications, the strategy and the Recorder."""
        notes = self.check_submitted() + self.execute_accepted(i)
        self.value = self.cash + self.positions_value(i)
        for order, price, commission in notes:
            self.notify(i, order, price, commission)
        self.decide(i, crashes)
        gross = sum(abs(self.size[j] * self.market.closes[i][j]) for j in sorted(self.size))
        self.bars.append({"date": self.market.dates[i], "value": self.value, "cash": self.cash, "gross_exposure": gross})

    def check_submitted(self) -> list[tuple[Order, None, None]]:
        """Pseudo-execute new orders at their created price against running cash; refuse those it overdraws."""
        cash, refused = self.cash, []
        for order in self.submitted:
            value = abs(order.size) * order.price
            cash = cash + value if order.size < 0 else cash - value
            cash -= self.costs.commission(order.size, order.price)
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
        slip = self.costs.slip
        if size > 0:
            price = open_ * (1 + slip) if slip else open_
            commission = self.costs.commission(size, price)
            cash = self.cash - size * price - commission
            if cash < 0.0:
                return None, None
            self.cash, self.size[j], self.cost[j] = cash, size, price
            return price, commission
        price = open_ * (1 - slip) if slip else open_
        held, entry = self.size.pop(j), self.cost.pop(j)
        commission = self.costs.commission(size, price)
        self.cash = self.cash + (held * entry + held * (price - entry) * 1.0) - commission
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
        j, date = order.ticker, self.market.dates[i]
        del self.pending[j]
        self.reserved -= order.reserved
        name = self.market.tickers[j]
        if price is None:
            self.refused.append({"ticker": name, "placed_date": self.market.dates[order.day],
                                 "size": order.size, "reason": "Margin"})
            return
        executed = order.size * price / order.size  # backtrader's size-weighted average of one fill
        if order.size > 0:
            self.entries[j] = (self.market.count[i][j], executed)
        self.fills.append({"ticker": name, "date": date, "size": order.size, "price": executed,
                           "bar_open": self.market.opens[i][j], "commission": 0.0 + commission})

    def decide(self, i: int, crashes: list[int]) -> None:
        """CrashDip.next: exits of held tickers and entries on crashes, in the tickers' order."""
        closes, count = self.market.closes[i], self.market.count[i]
        for j in sorted({*self.size, *crashes}):
            if j in self.pending or math.isnan(self.market.opens[i][j]):
                continue
            if j in self.size:
                entry_count, entry_price = self.entries[j]
                if exit_due(count[j] - entry_count, entry_price, closes[j], self.p):
                    self.submit(i, j, -self.size[j])
            else:
                target = self.value * self.p.position_pct / 100.0
                self.submit(i, j, self.affordable(closes[j], target))

    def affordable(self, close: float, target: float) -> int:
        """NewsbtStrategy.affordable_shares."""
        budget = min(target, self.cash - self.reserved)
        return max(0, math.floor(budget / (close * self.costs.factor))) if budget > 0 else 0

    def submit(self, i: int, j: int, size: int) -> None:
        if size == 0:
            return
        close = self.market.closes[i][j]
        order = Order(j, size, i, close, size * close * self.costs.factor if size > 0 else 0.0)
        self.pending[j] = order
        self.submitted.append(order)
        self.reserved += order.reserved
