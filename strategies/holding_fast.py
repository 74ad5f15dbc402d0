"""Timed holds (``strategies.holding``) compiled, for the news strategies' fast forms.

The shell's ``TimedHolds`` on newsbt's compiled broker (``newsbt.backtest.fast.kernel``): the
``entries`` dict kept in entry order, ``exit_expired`` by its own ``hold_over`` rule, and ``enter``.
"""

from __future__ import annotations

import numpy as np

from newsbt.backtest.fast import kernel as kb
from strategies.holding import hold_over

_hold_over = kb.jittable(hold_over)


@kb.jittable
def track_entries(book: kb.Book, entries: np.ndarray, n_entries: int, fills_before: int) -> int:
    """The shell's ``entries`` dict: a ticker joins at the fill that opens it, leaves at the one that closes it."""
    for f in range(fills_before, book.n[kb.N_FILLS]):
        j = book.li[kb.FL_TICK, f]
        if book.ti[kb.SIZE, j] != 0:
            entries[n_entries] = j
            n_entries += 1
        else:
            at = 0
            while entries[at] != j:
                at += 1
            n_entries -= 1
            for e in range(at, n_entries):  # a loop, not a slice assignment (whose error path is slow to compile)
                entries[e] = entries[e + 1]
    return n_entries


@kb.jittable
def exit_expired(book: kb.Book, mk: kb.Market, i: int, entries: np.ndarray, n_entries: int, hold_days: int) -> None:
    """``TimedHolds.exit_expired``: close each held ticker with a bar, no order pending, held long enough."""
    for e in range(n_entries):
        j = entries[e]
        if mk.ix[kb.BAR, i, j] and not book.ti[kb.PENDING, j]:
            if _hold_over(mk.ix[kb.COUNT, i, j] - book.ti[kb.OPENED_COUNT, j], hold_days):
                kb.close_position(book, mk, i, j)


@kb.jittable
def start_session(book: kb.Book, mk: kb.Market, i: int, entries: np.ndarray, n_entries: int, hold_days: int) -> int:
    """Session ``i`` up to the strategy's own decisions: the opening fills, the entries they open or close,
    then the holds that have run their course closed; returns the new number of entries."""
    fills_before = book.n[kb.N_FILLS]
    kb.open_session(book, mk, i)
    n_entries = track_entries(book, entries, n_entries, fills_before)
    exit_expired(book, mk, i, entries, n_entries, hold_days)
    return n_entries


@kb.jittable
def free(book: kb.Book, mk: kb.Market, i: int, j: int) -> bool:
    """``TimedHolds.free``: a bar today, no position, no order pending."""
    return mk.ix[kb.BAR, i, j] != 0 and kb.position(book, j) == 0 and not book.ti[kb.PENDING, j]


@kb.jittable
def enter(book: kb.Book, mk: kb.Market, i: int, j: int, side: int, position_pct: float) -> None:
    """``TimedHolds.enter``: +1 buys, -1 sells short ``position_pct`` % of the portfolio; 0 does nothing."""
    target = book.f[kb.VALUE] * position_pct / 100.0
    if side > 0:
        kb.submit(book, mk, i, j, kb.affordable_shares(book, mk.px[kb.CLOSE, i, j], target))
    elif side < 0:
        kb.submit(book, mk, i, j, -kb.target_shares(mk.px[kb.CLOSE, i, j], target))
