"""Validated price frames -> backtrader data feeds.

The only place that subclasses a backtrader feed: it adds the dividend-adjusted close as an extra
line and cuts each frame to the run's dates, so that a ticker listed later simply starts later.
"""

from __future__ import annotations

import datetime as dt

import backtrader as bt
import pandas as pd


class PriceFeed(bt.feeds.PandasData):
    """OHLCV plus ``adj_close``, read from a frame indexed by date."""

    lines = ("adj_close",)
    params = (
        ("datetime", None),
        ("open", "open"),
        ("high", "high"),
        ("low", "low"),
        ("close", "close"),
        ("volume", "volume"),
        ("openinterest", None),
        ("adj_close", "adj_close"),
    )


def window(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows of ``frame`` from ``start`` to ``end`` inclusive."""
    return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)]


def make_feed(frame: pd.DataFrame, name: str) -> PriceFeed:
    """A feed named after its ticker (strategies look datas up by that name)."""
    return PriceFeed(dataname=frame, name=name)
