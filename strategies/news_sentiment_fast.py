"""news_sentiment's fast form: ``NewsSentiment.next`` as a compiled loop on newsbt's compiled broker.

The signals come only from the news gate, as for the backtrader shell: ``Arrivals.signals`` (built by
``newsbt.backtest.fast.market.session_signals`` from ``NewsGate.signals``) holds the rows
``news_signals()`` returns at each session's close, in the order the shell visits them. The rule is
news_sentiment's own ``side_of``, compiled; the holds are ``TimedHolds``' (``strategies.holding_fast``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from strategies.holding_fast import enter, free, start_session
from strategies.news_sentiment import NewsSentiment, side_of, signal_column

_side_of = kb.jittable(side_of)


def simulate(prices: Prices, book: kb.Book, p: NewsSentiment.Params, news: Arrivals) -> None:
    rows = news.signals
    column = signal_column(rows, p.scorer)
    session = rows.index.get_level_values("session").to_numpy(dtype=np.int64)
    ticker = pd.Index(prices.tickers).get_indexer(rows.index.get_level_values("ticker")).astype(np.int64)
    sentiment = rows[column].to_numpy(dtype=np.float64)
    volume = rows["abnormal_volume"].to_numpy(dtype=np.float64)
    entries = np.empty(len(prices.tickers), dtype=np.int64)
    _loop(prices.market, book, session, ticker, sentiment, volume, entries, p.follow, p.min_sentiment, p.min_abnormal_volume,
          p.long_only, p.hold_days, p.position_pct)


@kb.session_loop
def _loop(mk: kb.Market, book: kb.Book, s_session: np.ndarray, s_tick: np.ndarray, s_sentiment: np.ndarray,
          s_volume: np.ndarray, entries: np.ndarray, follow: bool, min_sentiment: float, min_abnormal_volume: float | None,
          long_only: bool, hold_days: int, position_pct: float) -> None:
    """``entries``: tickers holding a position, in the order they entered (work space, allocated by the
    caller, which costs no compiled allocation)."""
    n_entries = row = 0
    for i in range(mk.day.shape[0]):
        n_entries = start_session(book, mk, i, entries, n_entries, hold_days)
        while row < len(s_session) and s_session[row] == i:
            j = s_tick[row]
            if free(book, mk, i, j):
                side = _side_of(s_sentiment[row], s_volume[row], follow, min_sentiment, min_abnormal_volume, long_only)
                enter(book, mk, i, j, side, position_pct)
            row += 1
        kb.close_session(book, mk, i)
