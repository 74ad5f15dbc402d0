"""Buy the dip after single-day crashes in AI stocks.

A crash day is a close-to-close return at or below ``-drop_pct`` %. The strategy buys at the next
session's open and sells at the open ``hold_days`` sessions after entry, or earlier when a close
reaches ``take_profit_pct`` / ``stop_loss_pct`` (exit at the next open).
"""

from __future__ import annotations

import math
from typing import Annotated

import backtrader as bt
from pydantic import Field

from newsbt import NewsbtStrategy, StrategyParams

AI_UNIVERSE = ("NVDA", "AMD", "AVGO", "MU", "TSM", "ARM", "SMCI", "ORCL", "MSFT", "META", "GOOGL", "AMZN")
Pct = Annotated[float, Field(gt=0, lt=100)]


def is_crash(prev_close: float, close: float, drop_pct: float) -> bool:
    """Did the close fall by at least ``drop_pct`` percent from the previous close?"""
    return close / prev_close - 1.0 <= -drop_pct / 100.0


def exit_due(sessions_held: int, entry_price: float, close: float, hold_days: int, take_profit_pct: float,
             stop_loss_pct: float) -> bool:
    """Should a position entered ``sessions_held`` closes ago be sold at the next open?

    ``sessions_held`` is 0 at the close of the entry session, so ``hold_days - 1`` closes later the
    sell lands on the open ``hold_days`` sessions after entry. A NaN threshold is no threshold (every
    comparison with NaN is false). Plain arithmetic, so the fast form compiles this very function.
    """
    change_pct = (close / entry_price - 1.0) * 100.0
    return sessions_held >= hold_days - 1 or change_pct >= take_profit_pct or change_pct <= -stop_loss_pct


def or_nan(value: float | None) -> float:
    """An optional threshold as ``exit_due`` takes it."""
    return math.nan if value is None else float(value)


class CrashDip(NewsbtStrategy):
    """Buy each single-day crash of a universe stock at the next open; sell a few sessions later."""

    class Params(StrategyParams):
        tickers: tuple[str, ...] = Field(AI_UNIVERSE, min_length=1)
        drop_pct: Pct = 7.0
        hold_days: int = Field(5, ge=1)
        position_pct: Annotated[float, Field(gt=0, le=100)] = 20.0
        take_profit_pct: Pct | None = None
        stop_loss_pct: Pct | None = None

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, tuple[int, float]] = {}  # ticker -> (bar count at entry, entry price)

    def next(self) -> None:
        for data in self.datas:
            if not self.has_bar(data) or self.pending(data):
                continue
            if self.getposition(data).size:
                self._maybe_exit(data)
            elif len(data) > 1 and is_crash(data.close[-1], data.close[0], self.config.drop_pct):
                target = self.broker.getvalue() * self.config.position_pct / 100.0
                self.submit(data, self.affordable_shares(data, target))

    def _maybe_exit(self, data: bt.AbstractDataBase) -> None:
        entry_len, entry_price = self.entries[data._name]
        p = self.config
        if exit_due(len(data) - entry_len, entry_price, data.close[0], p.hold_days, or_nan(p.take_profit_pct),
                    or_nan(p.stop_loss_pct)):
            self.close_position(data)

    def on_order_done(self, order: bt.Order) -> None:
        if order.status == order.Completed and order.isbuy():
            self.entries[order.data._name] = (len(order.data), order.executed.price)
