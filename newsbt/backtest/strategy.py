"""The backtrader shell every strategy shares, and the recorder that reads results out of Cerebro.

A newsbt strategy is a thin ``bt.Strategy``: its decisions live in small pure functions, its typed
parameters in a nested ``Params`` model, and this base class supplies what every strategy needs and
backtrader does not do by default:

* trading starts at the first bar of *any* ticker (``prenext`` runs ``next``), so a ticker listed
  later (ARM, 2023) or a missing bar in one ticker never holds back the others;
* ``has_bar(data)`` tells whether a ticker really printed a bar today (backtrader repeats the last one);
* whole-share sizing that never spends cash already promised to pending orders.

``Recorder`` is the one window out of Cerebro: it logs every fill, every refused order and the
portfolio value at each close. Everything downstream (trades, returns, metrics) is built from it.
"""

from __future__ import annotations

import datetime
import math
from typing import Any, ClassVar

import backtrader as bt
import pandas as pd

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
    params = (("config", None), ("events", ()), ("signals", None))

    def __init__(self) -> None:
        self.config = self.p.config if self.p.config is not None else self.Params()
        self.news = NewsGate(self.p.events, self.p.signals)  # the only way to the news: see public_news
        self._reserved_cash = 0.0
        self._pending: dict[str, bt.Order] = {}

    def prenext(self) -> None:
        self.next()

    @property
    def today(self):
        return self.datetime.date(0)

    def public_news(self, after: datetime.date | None = None) -> tuple[TimedEvent, ...]:
        """The news a decision at today's close may act on (see ``newsbt.data.newsgate``): the only way in."""
        return self.news.visible(self.today, after)

    def news_signals(self) -> pd.DataFrame:
        """Headline-store signals (index ticker) a decision at today's close may act on, through the
        same gate as ``public_news``; empty on a day without news (see ``newsbt.data.newssignals``)."""
        return self.news.signals(self.today)

    def has_bar(self, data: bt.AbstractDataBase) -> bool:
        """True when ``data`` printed a bar on the current date (not a stale repeat)."""
        return len(data) > 0 and data.datetime.date(0) == self.today

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
        shares = math.floor(budget / (data.close[0] * (1.0 + self.broker.p.slip_perc)))
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
        price = data.close[0] * (1.0 + self.broker.p.slip_perc)
        return size * price + self.broker.getcommissioninfo(data).getcommission(size, price)


class Recorder(bt.Analyzer):
    """Logs fills, refused orders and end-of-bar portfolio value, gross exposure and cash."""

    def start(self) -> None:
        self.fills: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.bars: list[dict[str, Any]] = []

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fills.append({
                "ticker": order.data._name,
                "date": bt.num2date(order.executed.dt).date(),
                "size": order.executed.size,
                "price": order.executed.price,
                "bar_open": order.data.open[0],
                "commission": order.executed.comm,
            })
        elif order.status in (order.Margin, order.Rejected):
            self.refused.append({
                "ticker": order.data._name,
                "placed_date": bt.num2date(order.created.dt).date(),
                "size": order.created.size,
                "reason": order.getstatusname(),
            })

    def next(self) -> None:
        """Value = cash + each position at today's close, computed afresh (the broker's own total is
        cached from before the close, so it would miss cash credited since, e.g. interest)."""
        broker, strategy = self.strategy.broker, self.strategy
        positions = [broker.getvalue([d]) for d in strategy.datas if strategy.getposition(d).size]
        self.bars.append({
            "date": strategy.datetime.date(0),
            "value": broker.getcash() + sum(positions),
            "cash": broker.getcash(),
            "gross_exposure": float(sum(abs(v) for v in positions)),
        })

    def get_analysis(self) -> dict[str, list[dict[str, Any]]]:
        return {"fills": self.fills, "refused": self.refused, "bars": self.bars}
