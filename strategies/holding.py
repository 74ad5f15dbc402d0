"""Timed holds: enter a ticker at the next open, leave it at the open ``hold_days`` sessions later.

Shared by the news strategies (``news_reaction``, ``news_sentiment``): at most one position per
ticker, sized as ``position_pct`` % of the portfolio (whole shares, within free cash for a buy). On
intraday bars a hold counts NYSE sessions too, and ends at the regular open ``hold_days`` sessions
after the entry's day.
"""

from __future__ import annotations

import datetime as dt

import backtrader as bt
import numpy as np

from newsbt import NewsbtStrategy
from newsbt.data.calendar import nyse_calendar


def hold_over(sessions_held: int, hold_days: int) -> bool:
    """Sell at the next open? ``sessions_held`` is 0 at the entry session's close, as in crash_dip."""
    return sessions_held >= hold_days - 1


def sessions_after(first: dt.date, later: dt.date) -> int:
    """How many NYSE sessions come after ``first``, up to and including ``later``."""
    days = nyse_calendar().sessions.values.astype("datetime64[D]")
    return int(np.searchsorted(days, np.datetime64(later, "D"), side="right")
               - np.searchsorted(days, np.datetime64(first, "D"), side="right"))


class TimedHolds(NewsbtStrategy):
    """Base: ``self.config`` must have ``hold_days`` and ``position_pct``."""

    def __init__(self) -> None:
        super().__init__()
        self.feeds = {d._name: d for d in self.datas}
        self.entries: dict[str, int | dt.date] = {}  # ticker -> bar count at entry (intraday: the entry's day)

    def exit_expired(self) -> None:
        for name, entry in self.entries.items():
            data = self.feeds[name]
            if self.has_bar(data) and not self.pending(data) and self._held_long_enough(data, entry):
                self.close_position(data)

    def _held_long_enough(self, data: bt.AbstractDataBase, entry: int | dt.date) -> bool:
        if not self.intraday:
            return hold_over(len(data) - entry, self.config.hold_days)
        start, session = self.next_bar()
        return session == "regular" and sessions_after(entry, start.date()) >= self.config.hold_days

    def free(self, data: bt.AbstractDataBase) -> bool:
        """May ``data`` be entered today: a bar, no position, no order pending?"""
        return self.has_bar(data) and not self.getposition(data).size and not self.pending(data)

    def enter(self, data: bt.AbstractDataBase, side: int) -> None:
        """+1 buys, -1 sells short, ``position_pct`` % of the portfolio at today's close; 0 does nothing."""
        target = self.broker.getvalue() * self.config.position_pct / 100.0
        if side > 0:
            self.submit(data, self.affordable_shares(data, target))
        elif side < 0:
            self.submit(data, -self.target_shares(data, target))

    def on_order_done(self, order: bt.Order) -> None:
        if order.status != order.Completed:
            return
        if self.getposition(order.data).size:
            self.entries[order.data._name] = order.data.datetime.date(0) if self.intraday else len(order.data)
        else:
            self.entries.pop(order.data._name, None)
