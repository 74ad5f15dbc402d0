"""crash_dip's fast form: ``CrashDip.next`` as a compiled loop on newsbt's compiled broker (``engine = "fast"``).

The decisions are crash_dip's own ``is_crash`` and ``exit_due``, compiled; the broker, sizing and
records are ``newsbt.backtest.fast.kernel``'s. ``tests/test_fast_engine.py`` holds it to backtrader.
"""

from __future__ import annotations

from numba import njit

from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from strategies.crash_dip import CrashDip, exit_due, is_crash, or_nan

_is_crash = njit(cache=True)(is_crash)
_exit_due = njit(cache=True)(exit_due)


def simulate(prices: Prices, book: kb.Book, p: CrashDip.Params, news: Arrivals) -> None:
    _loop(prices.market, book, p.drop_pct, p.hold_days, p.position_pct, or_nan(p.take_profit_pct),
          or_nan(p.stop_loss_pct))


@njit(cache=True)
def _loop(mk: kb.Market, book: kb.Book, drop_pct: float, hold_days: int, position_pct: float,
          take_profit_pct: float, stop_loss_pct: float) -> None:
    sessions, tickers = mk.day.shape[0], mk.own.shape[0]
    for i in range(sessions):
        kb.open_session(book, mk, i)
        for j in range(tickers):
            if not mk.ix[kb.BAR, i, j] or book.ti[kb.PENDING, j]:
                continue
            held = kb.position(book, j) if i == 0 else book.ti[kb.SIZE, j]
            if held != 0:
                if _exit_due(mk.ix[kb.COUNT, i, j] - book.ti[kb.OPENED_COUNT, j], book.tf[kb.OPENED_PRICE, j], mk.px[kb.CLOSE, i, j],
                             hold_days, take_profit_pct, stop_loss_pct):
                    kb.submit(book, mk, i, j, -held)
            elif mk.ix[kb.COUNT, i, j] > 1 and _is_crash(mk.px[kb.PREV, i, j], mk.px[kb.CLOSE, i, j], drop_pct):
                target = book.f[kb.VALUE] * position_pct / 100.0
                kb.submit(book, mk, i, j, kb.affordable_shares(book, mk.px[kb.CLOSE, i, j], target))
        kb.close_session(book, mk, i)
