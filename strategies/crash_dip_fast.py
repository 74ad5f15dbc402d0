"""crash_dip's fast form: ``CrashDip.next`` as a compiled loop on newsbt's compiled broker (``engine = "fast"``).

The decisions are crash_dip's own ``is_crash`` and ``exit_due``, compiled; the broker, sizing and
records are ``newsbt.backtest.fast.kernel``'s. ``tests/test_fast_engine.py`` holds it to backtrader.
"""

from __future__ import annotations


from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from strategies.crash_dip import CrashDip, exit_due, is_crash, or_nan

_is_crash, _exit_due = kb.jittable(is_crash), kb.jittable(exit_due)


def simulate(prices: Prices, book: kb.Book, p: CrashDip.Params, news: Arrivals) -> None:
    _loop(prices.market, book, p.drop_pct, p.hold_days, p.position_pct, or_nan(p.take_profit_pct),
          or_nan(p.stop_loss_pct))


@kb.session_loop
def _loop(mk: kb.Market, book: kb.Book, drop_pct: float, hold_days: int, position_pct: float,
          take_profit_pct: float, stop_loss_pct: float) -> None:
    bar, count, close, prev = mk.ix[kb.BAR], mk.ix[kb.COUNT], mk.px[kb.CLOSE], mk.px[kb.PREV]
    for i in range(mk.day.shape[0]):
        kb.open_session(book, mk, i)
        for j in range(mk.own.shape[0]):
            if not bar[i, j] or book.ti[kb.PENDING, j]:
                continue
            held = kb.position(book, j) if i == 0 else book.ti[kb.SIZE, j]  # see kb.position
            if held != 0:
                sessions_held = count[i, j] - book.ti[kb.OPENED_COUNT, j]
                if _exit_due(sessions_held, book.tf[kb.OPENED_PRICE, j], close[i, j], hold_days, take_profit_pct,
                             stop_loss_pct):
                    kb.submit(book, mk, i, j, -held)
            elif count[i, j] > 1 and _is_crash(prev[i, j], close[i, j], drop_pct):
                target = book.f[kb.VALUE] * position_pct / 100.0
                kb.submit(book, mk, i, j, kb.affordable_shares(book, close[i, j], target))
        kb.close_session(book, mk, i)
