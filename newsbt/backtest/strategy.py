"""The backtrader shell every strategy shares, and the recorder that reads results out of Cerebro.

A newsbt strategy is a thin ``bt.Strategy``: its decisions live in small pure functions, its typed
parameters in a nested ``Params`` model, and this base class supplies what every strategy needs and
backtrader does not do by default:

* trading starts at the first bar of *any* ticker (``prenext`` runs ``next``), so a ticker listed
  later (ARM, 2023) or a missing bar in one ticker never holds back the others;
* ``has_bar(data)`` tells whether a ticker really printed a bar today (backtrader repeats the last one);
* whole-share sizing that never spends cash already promised to pending orders;
* on intraday bars (the engine passes the run's ``clock`` of bar starts) the same, bar by bar:
  ``now`` is the bar's New York start, ``has_bar`` compares bars, ``next_bar`` says where an order fills.

``Recorder`` is the one window out of Cerebro: it logs every fill, every refused order and the
portfolio value at each close. Everything downstream (trades, returns, metrics) is built from it.
"""

from __future__ import annotations

import datetime
import math
from typing import Any, ClassVar

import backtrader as bt
import pandas as pd

from newsbt.data.calendar import EXCHANGE_TZ, bar_sessions
from newsbt.data.newsgate import NewsGate, TimedEvent
from newsbt.core.validation import StrictModel


class StrategyParams(StrictModel):
    """Typed, frozen strategy parameters; these are what backtest files set and sweeps vary."""

    def required_tickers(self) -> list[str]:
        """Tickers whose prices the strategy trades or reads."""
        tickers = getattr(self, "tickers", None)
        return list(tickers) if tickers is not None else [getattr(self, "ticker")]


class NewsbtStrategy(bt.Strategy):
    """Base class: ``self.config`` holds the validated ``Params``; ``self.public_news()`` the news, if any."""

    Params: ClassVar[type[StrategyParams]] = StrategyParams
    params = (("config", None), ("events", ()), ("signals", None), ("clock", None))

    def __init__(self) -> None:
        self.config = self.p.config if self.p.config is not None else self.Params()
        self.intraday = self.p.clock is not None  # the run's bar starts, when its bars are intraday
        self.news = NewsGate(self.p.events, self.p.signals, self.p.clock)  # the only way to the news: see public_news
        self._bar_sessions = _bar_sessions(self.p.clock)
        self._reserved_cash = 0.0
        self._pending: dict[str, bt.Order] = {}

    def prenext(self) -> None:
        self.next()

    @property
    def today(self):
        return self.datetime.date(0)

    @property
    def now(self) -> datetime.date | datetime.datetime:
        """The current bar: its date on daily bars, its New York start time on intraday bars."""
        return self.datetime.datetime(0) if self.intraday else self.datetime.date(0)

    def public_news(self, after: datetime.date | datetime.datetime | None = None) -> tuple[TimedEvent, ...]:
        """The news a decision at this bar's close may act on (see ``newsbt.data.newsgate``): the only way in."""
        return self.news.visible(self.now, after)

    def next_bar(self) -> tuple[datetime.date | datetime.datetime, str]:
        """Where an order placed now fills first: the next bar (the next session's date on daily bars)
        and its session (``pre``, ``regular``, ``post``; daily bars are ``regular``)."""
        start = self.news.horizon(self.now)
        return start, self._bar_sessions.get(start, "" if self.intraday else "regular")

    def news_signals(self) -> pd.DataFrame:
        """Headline-store signals (index ticker) a decision at today's close may act on, through the
        same gate as ``public_news``; empty on a day without news (see ``newsbt.data.news.signals``)."""
        return self.news.signals(self.today)

    def has_bar(self, data: bt.AbstractDataBase) -> bool:
        """True when ``data`` printed a bar at the current bar (not a stale repeat)."""
        if len(data) == 0:
            return False
        return (data.datetime.datetime(0) if self.intraday else data.datetime.date(0)) == self.now

    def pending(self, data: bt.AbstractDataBase) -> bool:
        return data._name in self._pending

    def submit(self, data: bt.AbstractDataBase, size: int) -> bt.Order | None:
        """Market order for ``size`` shares (negative sells), filled at the next open."""
        if size == 0:
            return None
        order = self.buy(data=data, size=size) if size > 0 else self.sell(data=data, size=-size)
        self._pending[data._name] = order
        if size > 0:
            order.addinfo(reserved=self._buy_cost(data, size))
            self._reserved_cash += order.info.reserved
        return order

    def close_position(self, data: bt.AbstractDataBase) -> bt.Order | None:
        return self.submit(data, -self.getposition(data).size)

    def affordable_shares(self, data: bt.AbstractDataBase, target_value: float) -> int:
        """Whole shares worth ``target_value`` at today's close, costs included, within free cash."""
        budget = min(target_value, self.broker.getcash() - self._reserved_cash)
        if budget <= 0:
            return 0
        shares = math.floor(budget / (data.close[0] * (1.0 + sizing_slip(self.broker))))
        while shares > 0 and self._buy_cost(data, shares) > budget:
            shares -= 1
        return shares

    def target_shares(self, data: bt.AbstractDataBase, target_value: float) -> int:
        """Whole shares worth ``target_value`` at today's close (for shorts: no cash is needed)."""
        return math.floor(target_value / data.close[0])

    def notify_order(self, order: bt.Order) -> None:
        if order.status in (order.Submitted, order.Accepted, order.Partial):
            return
        self._pending.pop(order.data._name, None)
        self._reserved_cash -= order.info.get("reserved", 0.0)
        self.on_order_done(order)

    def on_order_done(self, order: bt.Order) -> None:
        """Hook for subclasses: an order finished (completed, cancelled, refused)."""

    def _buy_cost(self, data: bt.AbstractDataBase, size: int) -> float:
        """Cash a buy of ``size`` would take at today's close, with slippage and commission."""
        price = data.close[0] * (1.0 + sizing_slip(self.broker))
        return size * price + self.broker.getcommissioninfo(data).getcommission(size, price)


def sizing_slip(broker: Any) -> float:
    """The slippage rate sizing assumes: the larger of the regular and extended-hours rates."""
    return max(broker.p.slip_perc, getattr(broker.p, "extended_slip_perc", None) or 0.0)


def _bar_sessions(clock: pd.DatetimeIndex | None) -> dict[datetime.datetime, str]:
    """New York wall-clock bar start -> the NYSE session it belongs to (empty for daily runs)."""
    if clock is None:
        return {}
    _, labels = bar_sessions(clock)
    return dict(zip(clock.tz_convert(EXCHANGE_TZ).tz_localize(None).to_pydatetime(), labels))


class Recorder(bt.Analyzer):
    """Logs fills, refused orders and end-of-bar portfolio value, gross exposure and cash; stamped
    with dates, or with New York bar-start times when ``intraday``."""

    params = (("intraday", False),)

    def _stamp(self, num: float) -> datetime.date | datetime.datetime:
        when = bt.num2date(num)
        return when if self.p.intraday else when.date()

    def start(self) -> None:
        self.fills: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.bars: list[dict[str, Any]] = []

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fills.append({
                "ticker": order.data._name,
                "date": self._stamp(order.executed.dt),
                "size": order.executed.size,
                "price": order.executed.price,
                "bar_open": order.data.open[0],
                "commission": order.executed.comm,
            })
        elif order.status in (order.Margin, order.Rejected):
            self.refused.append({
                "ticker": order.data._name,
                "placed_date": self._stamp(order.created.dt),
                "size": order.created.size,
                "reason": order.getstatusname(),
            })

    def next(self) -> None:
        """Value = cash + each position at today's close, computed afresh (the broker's own total is
        cached from before the close, so it would miss cash credited since, e.g. interest)."""
        broker, strategy = self.strategy.broker, self.strategy
        positions = [broker.getvalue([d]) for d in strategy.datas if strategy.getposition(d).size]
        self.bars.append({
            "date": self._stamp(strategy.datetime[0]),
            "value": broker.getcash() + sum(positions),
            "cash": broker.getcash(),
            "gross_exposure": float(sum(abs(v) for v in positions)),
        })

    def get_analysis(self) -> dict[str, list[dict[str, Any]]]:
        return {"fills": self.fills, "refused": self.refused, "bars": self.bars}
