"""Validated price frames -> backtrader data feeds.

The only place that subclasses a backtrader feed. ``PriceFeed`` adds the dividend-adjusted close as
an extra line and hands backtrader each bar from arrays extracted once, instead of ``PandasData``'s
row-by-row ``iloc`` lookups (the larger part of a run's time); the values and timestamps are the
ones ``PandasData`` would give. Frames are cut to the run's dates, so a ticker listed later simply
starts later.
"""

from __future__ import annotations

import datetime as dt

import backtrader as bt
import pandas as pd

FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


class PriceFeed(bt.feed.DataBase):
    """OHLCV plus ``adj_close``, from a frame indexed by date (``dataname``)."""

    lines = ("adj_close",)
    fields = FIELDS

    def start(self) -> None:
        super().start()
        frame = self.p.dataname
        stamps = [bt.date2num(t.to_pydatetime()) for t in frame.index]
        columns = [frame[f].to_numpy(dtype=float).tolist() for f in self.fields]
        self._rows = iter(zip(stamps, *columns))
        self._targets = [self.lines.datetime, *(getattr(self.lines, f) for f in self.fields)]

    def _load(self) -> bool:
        row = next(self._rows, None)
        if row is None:
            return False
        for line, value in zip(self._targets, row):
            line[0] = value
        return True


class IntradayFeed(PriceFeed):
    """Intraday bars: ``PriceFeed`` plus ``extended`` (1.0 on a pre- or post-market bar)."""

    lines = ("extended",)
    fields = (*FIELDS, "extended")


def window(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows of ``frame`` from ``start`` to ``end`` inclusive."""
    return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)]


def make_feed(frame: pd.DataFrame, name: str) -> PriceFeed:
    """A feed named after its ticker (strategies look datas up by that name)."""
    return PriceFeed(dataname=frame, name=name)


def make_intraday_feed(frame: pd.DataFrame, name: str) -> IntradayFeed:
    """A minute-timeframe feed of validated intraday bars (see :mod:`newsbt.data.intraday`)."""
    bars = frame.assign(adj_close=frame["close"], extended=(frame["nyse_session"] != "regular").astype(float))
    bars.index = frame.index.tz_localize(None)  # New York wall-clock bar starts, as backtrader keeps them
    return IntradayFeed(dataname=bars, name=name, timeframe=bt.TimeFrame.Minutes)
