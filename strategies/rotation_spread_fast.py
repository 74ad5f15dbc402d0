"""rotation_spread's fast form: ``RotationSpread.next`` as a compiled loop on newsbt's compiled broker.

The signals, the hedge ratio and the leg sizes are rotation_spread's own functions, compiled; both
legs' histories are their own closes, as backtrader's ``close.get`` returns them.
"""

from __future__ import annotations

import math

import numpy as np

from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from newsbt.core.errors import NewsbtError
from strategies.rotation_spread import (RotationSpread, gap_direction, leg_sizes, ratio_zscore, trailing_beta,
                                       zscore_direction)

_gap_direction, _ratio_zscore, _zscore_direction, _trailing_beta, _leg_sizes = (
    kb.jittable(f) for f in (gap_direction, ratio_zscore, zscore_direction, trailing_beta, leg_sizes))
LONG, SHORT = 0, 1


def simulate(prices: Prices, book: kb.Book, p: RotationSpread.Params, news: Arrivals) -> None:
    if prices.idle:
        raise NewsbtError(f"rotation_spread needs prices of both legs; none for {', '.join(prices.idle)}")
    nan_or = (lambda v: math.nan if v is None else float(v))
    _loop(prices.market, book, p.signal == "zscore", p.momentum, p.gap_pct, p.window, p.entry_z, nan_or(p.exit_z),
          p.hold_days, nan_or(p.stop_loss_pct), p.leg_pct, p.hedge == "beta", p.beta_window)


@kb.jittable
def _history(mk: kb.Market, i: int, bars: int) -> tuple[bool, np.ndarray, np.ndarray]:
    """(True, the last ``bars`` own closes of each leg), or False until both legs have that many."""
    n_long, n_short = mk.ix[kb.COUNT, i, LONG], mk.ix[kb.COUNT, i, SHORT]
    if min(n_long, n_short) < bars:
        return False, mk.own[LONG, :0], mk.own[SHORT, :0]
    return True, mk.own[LONG, n_long - bars:n_long], mk.own[SHORT, n_short - bars:n_short]


@kb.jittable
def _signal(mk: kb.Market, i: int, zscore: bool, momentum: bool, gap_pct: float, window: int, entry_z: float) -> int:
    ok, long_c, short_c = _history(mk, i, window if zscore else 2)
    if not ok:
        return 0
    if zscore:
        return _zscore_direction(_ratio_zscore(long_c, short_c), entry_z, momentum)
    return _gap_direction(long_c[1] / long_c[0] - 1, short_c[1] / short_c[0] - 1, gap_pct, momentum)


@kb.jittable
def _exit_due(mk: kb.Market, book: kb.Book, i: int, zscore: bool, window: int, exit_z: float, hold_days: int,
              stop_loss_pct: float) -> bool:
    if mk.ix[kb.COUNT, i, LONG] - book.ti[kb.OPENED_COUNT, LONG] >= hold_days - 1:
        return True
    if zscore and not math.isnan(exit_z):
        ok, long_c, short_c = _history(mk, i, window)
        if ok and abs(_ratio_zscore(long_c, short_c)) <= exit_z:
            return True
    if math.isnan(stop_loss_pct):
        return False
    pnl = 0.0
    for j in (LONG, SHORT):
        pnl += kb.position(book, j) * (mk.px[kb.CLOSE, i, j] - book.tf[kb.PRICE, j])
    notional = abs(book.ti[kb.OPENED_SIZE, LONG] * book.tf[kb.OPENED_PRICE, LONG])
    return pnl <= -stop_loss_pct / 100.0 * notional


@kb.session_loop
def _loop(mk: kb.Market, book: kb.Book, zscore: bool, momentum: bool, gap_pct: float, window: int, entry_z: float,
          exit_z: float, hold_days: int, stop_loss_pct: float, leg_pct: float, beta: bool, beta_window: int) -> None:
    for i in range(mk.day.shape[0]):
        kb.open_session(book, mk, i)
        ready = mk.ix[kb.BAR, i, LONG] and mk.ix[kb.BAR, i, SHORT]
        if ready and not (book.ti[kb.PENDING, LONG] or book.ti[kb.PENDING, SHORT]):
            if kb.position(book, LONG) != 0 or kb.position(book, SHORT) != 0:
                if _exit_due(mk, book, i, zscore, window, exit_z, hold_days, stop_loss_pct):
                    kb.close_position(book, mk, i, LONG)
                    kb.close_position(book, mk, i, SHORT)
            else:
                _maybe_enter(mk, book, i, _signal(mk, i, zscore, momentum, gap_pct, window, entry_z), leg_pct, beta,
                             beta_window)
        kb.close_session(book, mk, i)


@kb.jittable
def _maybe_enter(mk: kb.Market, book: kb.Book, i: int, direction: int, leg_pct: float, beta: bool,
                 beta_window: int) -> None:
    if direction == 0:
        return
    hedge_ratio = 1.0
    if beta:
        ok, long_c, short_c = _history(mk, i, beta_window + 1)
        if not ok:
            return
        hedge_ratio = _trailing_beta(long_c, short_c)
        if not hedge_ratio > 0:
            return
    n_long, n_short = _leg_sizes(book.f[kb.VALUE], leg_pct, mk.px[kb.CLOSE, i, LONG], mk.px[kb.CLOSE, i, SHORT],
                                 hedge_ratio, direction)
    if n_long != 0 and n_short != 0:
        kb.submit(book, mk, i, LONG, n_long)
        kb.submit(book, mk, i, SHORT, n_short)
