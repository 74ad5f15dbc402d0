"""news_reaction's fast form: ``NewsReaction.next`` as a compiled loop on newsbt's compiled broker.

News comes only from the news gate, as for the backtrader shell: ``Arrivals`` (built by
``newsbt.backtest.fast.market.news_arrivals`` from ``NewsGate``) says at which session's close each
event first shows up in ``public_news``. The candidates are news_reaction's own ``candidates`` of
those events; the rules (``is_due``, ``reaction_confirms``, ``trade_side``, ``hold_over``) are its
own functions, compiled.
"""

from __future__ import annotations

import math

import numpy as np

from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from strategies.holding_fast import enter, start_session
from strategies.news_reaction import NewsReaction, candidates, is_due, reaction_confirms, trade_side

_is_due, _reaction_confirms, _trade_side = (kb.jittable(f) for f in (is_due, reaction_confirms, trade_side))


def simulate(prices: Prices, book: kb.Book, p: NewsReaction.Params, news: Arrivals) -> None:
    arrays = candidate_arrays(prices, p, news)
    work = np.empty(len(prices.tickers), dtype=np.int64), np.empty(len(arrays[0]), dtype=np.int64)
    _loop(prices.market, book, *arrays, *work, p.follow, p.hold_days, p.position_pct, p.min_reaction_pct)


def candidate_arrays(prices: Prices, p: NewsReaction.Params, news: Arrivals) -> tuple[np.ndarray, ...]:
    """Per candidate, in the order the shell queues them: ticker, arrival session, direction, reaction
    day and the ticker's close-to-close return on that day's bar (NaN without one)."""
    sessions = dict(zip(news.news, news.session.tolist()))
    chosen = candidates(news.news, p, prices.tickers)
    mk, days = prices.market, prices.market.day
    rows = []
    for c in chosen:
        j = prices.index(c.ticker)
        reaction = int(np.datetime64(c.news.reaction_day, "D").astype(np.int64))
        r = int(np.searchsorted(days, reaction))
        on_bar = r < len(days) and days[r] == reaction and mk.ix[kb.BAR, r, j] and mk.ix[kb.COUNT, r, j] > 1
        move = mk.px[kb.CLOSE, r, j] / mk.px[kb.PREV, r, j] - 1.0 if on_bar else math.nan
        rows.append((j, sessions[c.news], c.news.event.direction, reaction, move))
    ints = np.array([r[:4] for r in rows], dtype=np.int64).reshape(len(rows), 4).T.copy()  # rows contiguous
    return ints[0], ints[1], ints[2], ints[3], np.array([r[4] for r in rows], dtype=np.float64)


@kb.session_loop
def _loop(mk: kb.Market, book: kb.Book, c_tick: np.ndarray, c_arrival: np.ndarray, c_dir: np.ndarray,
          c_reaction: np.ndarray, c_move: np.ndarray, entries: np.ndarray, waiting: np.ndarray, follow: bool,
          hold_days: int, position_pct: float, min_reaction_pct: float | None) -> None:
    """``entries``: tickers holding a position, in the order they entered; ``waiting``: the candidates not
    decided yet (both work space; allocated by the caller, which costs no compiled allocation)."""
    n_entries = n_waiting = arrived = 0
    for i in range(mk.day.shape[0]):
        n_entries = start_session(book, mk, i, entries, n_entries, hold_days)
        while arrived < len(c_tick) and c_arrival[arrived] == i:
            waiting[n_waiting] = arrived
            n_waiting, arrived = n_waiting + 1, arrived + 1
        kept = 0
        for w in range(n_waiting):
            c = waiting[w]
            j = c_tick[c]
            if not mk.ix[kb.BAR, i, j] or not _is_due(mk.day[i], c_reaction[c], min_reaction_pct):
                waiting[kept] = c
                kept += 1
            elif kb.position(book, j) == 0 and not book.ti[kb.PENDING, j]:
                side = _trade_side(c_dir[c], follow) if _reaction_confirms(c_move[c], c_dir[c], min_reaction_pct) else 0
                enter(book, mk, i, j, side, position_pct)
        n_waiting = kept
        kb.close_session(book, mk, i)
