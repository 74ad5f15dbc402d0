"""Prices and news as the compiled simulator reads them, built once per ticker set and reused per run.

The calendar is the union of the traded tickers' sessions between the run's dates, as Cerebro's
loop sees it: a ticker listed later starts later, a missing bar is a session where it did not print.
News reaches a fast form through the same gate as a backtrader strategy (``newsbt.data.newsgate``):
``arrivals`` says at which session's close each event first shows up in ``public_news``, and which
news-store signal rows ``news_signals`` hands each session's close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from newsbt.backtest.fast.kernel import BAR, CLOSE, COUNT, LASTDAY, OPEN, PREV, Market
from newsbt.backtest.feeds import window
from newsbt.core.errors import NewsbtError
from newsbt.data.newsgate import NewsGate, TimedEvent


@dataclass(frozen=True)
class Prices:
    """The traded tickers' prices on their union calendar, plus what a ``RunResult`` needs of them."""

    tickers: tuple[str, ...]  # tickers with bars in the run's dates, in the strategy's order
    idle: tuple[str, ...]  # requested tickers without any bar in the run's dates
    dates: pd.DatetimeIndex
    market: Market
    frames: Mapping[str, pd.DataFrame] = field(repr=False, compare=False)  # the bars they were built from
    start: dt.date
    end: dt.date

    def index(self, ticker: str) -> int:
        return self.tickers.index(ticker)

    @cached_property
    def closes(self) -> pd.DataFrame:
        """Closes of the traded tickers on their own sessions (``RunResult.closes``), built when a run asks
        for them (a sweep row never does)."""
        return pd.DataFrame({t: window(self.frames[t], self.start, self.end)["close"] for t in self.tickers})


def build_prices(frames: Mapping[str, pd.DataFrame], tickers: Sequence[str], start: dt.date, end: dt.date) -> Prices:
    """Align ``tickers``' bars between ``start`` and ``end`` on one calendar (in numpy: a sweep aligns once
    per worker and ticker set, and this is part of every short sweep's time)."""
    cut = {t: _window(frames[t], start, end) for t in tickers}
    traded = [t for t in tickers if len(cut[t][0])]
    if not traded:
        raise NewsbtError(f"no prices for {', '.join(cut)} between {start} and {end}")
    calendar = np.unique(np.concatenate([cut[t][0] for t in traded]))
    n, k = len(calendar), len(traded)
    day = calendar.astype("datetime64[D]").astype(np.int64)
    px, ix = np.full((3, n, k), np.nan), np.zeros((3, n, k), dtype=np.int64)
    opens, closes, prev = px[OPEN], np.full((n, k), np.nan), px[PREV]
    ix[LASTDAY] = -1
    own = np.full((k, max(len(cut[t][0]) for t in traded)), np.nan)
    for j, t in enumerate(traded):
        dates, opens_t, closes_t = cut[t]
        rows = np.searchsorted(calendar, dates)
        opens[rows, j], closes[rows, j] = opens_t, closes_t
        prev[rows[1:], j] = closes_t[:-1]
        ix[BAR, rows, j], ix[COUNT, rows, j], ix[LASTDAY, rows, j] = 1, np.arange(1, len(rows) + 1), day[rows]
        own[j, : len(rows)] = closes_t
    latest = np.maximum.accumulate(np.where(np.isnan(closes), 0, np.arange(n)[:, None]), axis=0)
    px[CLOSE] = closes[latest, np.arange(k)]  # forward-filled (NaN before a ticker's first bar)
    np.maximum.accumulate(ix[COUNT], axis=0, out=ix[COUNT])
    np.maximum.accumulate(ix[LASTDAY], axis=0, out=ix[LASTDAY])
    market = Market(day=day, px=px, ix=ix, own=own)
    return Prices(tuple(traded), tuple(t for t in tickers if t not in traded),
                  pd.DatetimeIndex(calendar, name="date"), market, frames, start, end)


def _window(frame: pd.DataFrame, start: dt.date, end: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sessions, opens, closes) of ``frame``'s rows from ``start`` to ``end`` inclusive (``feeds.window``)."""
    dates = frame.index.values
    lo, hi = np.searchsorted(dates, np.datetime64(start, "ns")), np.searchsorted(dates, np.datetime64(end, "ns"), "right")
    return dates[lo:hi], frame["open"].to_numpy(float)[lo:hi], frame["close"].to_numpy(float)[lo:hi]


@dataclass(frozen=True)
class Arrivals:
    """The news gate's output on a run's calendar: each event and the session at whose close it arrives,
    and the news-store signals each session's close is handed (``None``: the run has no store)."""

    news: tuple[TimedEvent, ...]  # by first_bar, then file order (the gate's order)
    session: np.ndarray  # int64: index into the run's sessions
    signals: pd.DataFrame | None = None  # index (session index, ticker), rows in the order a strategy visits them


def news_arrivals(events: Sequence[object], dates: pd.DatetimeIndex, signals: pd.DataFrame | None = None,
                  tickers: Sequence[str] = ()) -> Arrivals:
    """What ``NewsbtStrategy.public_news(after=<previous bar's horizon>)`` hands out, session by session,
    and what ``news_signals()`` returns at each close for ``tickers`` (see :func:`session_signals`).

    An event arrives at the first session whose horizon (the next NYSE session) reaches its
    ``first_bar``; one public before the first session's close belongs to before the run.
    """
    gate = NewsGate(events, signals)
    by_session = None if signals is None else session_signals(gate, signals, dates, tickers)
    if not events or not len(dates):
        return Arrivals((), np.zeros(0, dtype=np.int64), by_session)
    news = gate.visible(dates[-1].date())
    horizons = np.array([gate.horizon(d) for d in dates.date], dtype="datetime64[D]")
    first = np.array([n.first_bar for n in news], dtype="datetime64[D]")
    session = np.searchsorted(horizons, first, side="left")
    keep = first > np.datetime64(dates[0].date(), "D")
    return Arrivals(tuple(n for n, k in zip(news, keep) if k), session[keep].astype(np.int64), by_session)


def session_signals(gate: NewsGate, signals: pd.DataFrame, dates: pd.DatetimeIndex,
                    tickers: Sequence[str]) -> pd.DataFrame:
    """``gate.signals`` at each session's close, kept to ``tickers`` as a strategy over those feeds
    visits them (``signals.index.intersection(feeds)``), keyed by the session's index in ``dates``."""
    feeds = list(tickers)
    parts = {}
    for i, day in enumerate(dates.date):
        rows = gate.signals(day)
        if not rows.empty:
            parts[i] = rows.loc[rows.index.intersection(feeds)]
    if not parts:
        return pd.DataFrame(columns=signals.columns, index=pd.MultiIndex.from_arrays(
            [np.zeros(0, dtype=np.int64), []], names=["session", "ticker"]))
    return pd.concat(parts, names=["session", "ticker"])
