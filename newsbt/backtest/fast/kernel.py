"""The compiled simulator: backtrader's ``BackBroker`` as newsbt configures it, in numba.

A strategy's fast form is a compiled loop over sessions (``@session_loop``) that calls, per session ``i``::

    open_session(book, mk, i)      # the broker's turn: check new orders, borrow fees, fills at the open
    ...decisions: position(), affordable_shares(), target_shares(), submit()...
    close_session(book, mk, i)     # cash interest, then the recorder's line for the close

Every step repeats backtrader's floating-point operations in backtrader's order, so sizes, fills,
fees and values come out equal to a Cerebro run of the same spec (``tests/test_fast_engine.py``):

* orders placed at a close are first checked against the running cash at their created price
  (``check_submitted``); those that overdraw it are refused (``Margin``);
* then each short held is charged its borrow fee for the calendar days since the last charge, at the
  previous close of its ticker, and only on a session where that ticker printed a bar;
* accepted orders fill, in the order they were accepted, at the open of their ticker's next bar,
  with slippage; a buy (or short) the cash cannot cover there is refused (``Margin``) too;
* commission is in bps of the fill value or per share, with a per-order minimum; whole shares only;
* the value the strategy sizes on is the broker's (positions in the order the broker first met them);
  cash interest lands at the close; the recorded value is cash plus each position at its last close.

Orders open a position from flat or close it to flat (what every built-in does); one pending order per
ticker. State lives in a ``Book`` of arrays; ``Market`` holds the prices (see ``newsbt.backtest.fast.market``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import register_jitable

# book.costs[...]
BPS, PER_SHARE, MINIMUM, SLIP, BORROW, RATE = range(6)
# book.f[...]: the broker's scalars
CASH, RESERVED, VALUE, INTEREST = range(4)
# book.n[...]: counters
N_SUB, N_ACC, N_FILLS, N_REFUSED, N_BORROW, N_TOUCHED, N_TRADES, N_OPEN = range(8)
# book.ti[..., ticker] / book.tf[..., ticker]: per-ticker state (one pending order per ticker)
(SIZE, POS_DAY, TOUCHED, IS_TOUCHED, PENDING, SUB, ACC, O_SIZE, O_DAY, OPENED_COUNT, OPENED_SIZE) = range(11)
PRICE, O_PRICE, O_RESERVED, OPENED_PRICE, T_COMM, T_BORROW = range(6)
# book.li[..., row] / book.lf[..., row]: the logs (fills, refused orders, borrow charges, closed trades)
FL_TICK, FL_DAY, FL_SIZE, RF_TICK, RF_DAY, RF_SIZE, BR_TICK, BR_DAY, BR_DAYS = range(9)
FL_PRICE, FL_OPEN, FL_COMM, BR_VALUE, BR_FEE, T_PNL = range(6)
# book.bars[..., session] / market.px[...] / market.ix[...]
EQUITY, BAR_CASH, GROSS = range(3)
OPEN, CLOSE, PREV = range(3)
BAR, COUNT, LASTDAY = range(3)
DAYS_PER_YEAR = 365.0


def session_loop(function):
    """A fast form's compiled loop over sessions: ``njit``, cached on disk, without reference counting.

    numba counts references to every array a compiled function is handed, and it does so around each
    inlined step of a loop too: with a ``Book`` and a ``Market`` (a dozen arrays) that was three
    quarters of a crash_dip run. A loop allocates nothing (``new_book`` and the market are built in
    Python, which owns them for the whole call), so it runs without numba's runtime (``_nrt=False``);
    a loop that tried to allocate would fail to compile, not misbehave.
    """
    return njit(cache=True, _nrt=False)(function)


def jittable(function):
    """``function`` itself, made callable from compiled code: numba compiles it into its compiled callers.

    Unlike an ``njit`` function it gets no entry point from Python or C, which numba would build,
    optimise and cache for every step (each one unboxing a ``Book`` and a ``Market``): that was about a
    third of the time it took to compile the engine. Called from Python, it runs as plain Python. Its
    arguments are typed as values, not literals, so a constant passed in compiles no extra version.
    """
    return register_jitable(no_cfunc_wrapper=True)(function)


class Market(NamedTuple):
    """Prices of the traded tickers on the run's calendar (sessions x tickers), in few arrays (cheap to pass)."""

    day: np.ndarray  # int64 [n]: the session, in days since 1970-01-01
    px: np.ndarray  # float [3, n, k]: OPEN (NaN without a bar); CLOSE, the latest close so far (positions are
    #                 valued at it); PREV, on a bar the ticker's previous own close (backtrader's close[-1])
    ix: np.ndarray  # int64 [3, n, k]: BAR (1 if it printed a bar); COUNT, its own bars so far (len(data));
    #                 LASTDAY, the day of its latest bar (its feed's datetime)
    own: np.ndarray  # float [k, longest]: each ticker's closes on its own bars, NaN-padded


class Book(NamedTuple):
    """Broker and recorder state of one run (see the index names above); ``new_book`` allocates it."""

    costs: np.ndarray
    f: np.ndarray
    n: np.ndarray
    ti: np.ndarray
    tf: np.ndarray
    li: np.ndarray
    lf: np.ndarray
    bars: np.ndarray


def new_book(sessions: int, tickers: int, cash: float, costs: np.ndarray) -> Book:
    """Empty state for a run; each ticker fills or is refused at most once a session, which bounds the logs."""
    cap = max(1, sessions * tickers)
    return Book(costs=costs, f=np.array([float(cash), 0.0, 0.0, 0.0]), n=np.zeros(8, dtype=np.int64),
                ti=np.zeros((11, tickers), dtype=np.int64), tf=np.zeros((6, tickers)),
                li=np.empty((9, cap), dtype=np.int64), lf=np.empty((6, cap)), bars=np.empty((3, sessions)))


@jittable
def commission(costs: np.ndarray, size: int, price: float) -> float:
    """``CostModel._getcommission``: bps of value or per share, at least the minimum."""
    if size == 0:
        return 0.0
    unit = costs[PER_SHARE]
    if unit == 0.0:
        unit = price * costs[BPS] * 1e-4
    fee = abs(size) * unit
    return costs[MINIMUM] if costs[MINIMUM] > fee else fee


@jittable
def buy_cost(book: Book, close: float, size: int) -> float:
    """``NewsbtStrategy._buy_cost``: cash a buy of ``size`` takes at ``close``, slippage and commission included."""
    price = close * (1.0 + book.costs[SLIP])
    return size * price + commission(book.costs, size, price)


@jittable
def affordable_shares(book: Book, close: float, target: float) -> int:
    """``NewsbtStrategy.affordable_shares``: whole shares worth ``target``, costs included, within free cash."""
    free = book.f[CASH] - book.f[RESERVED]
    budget = free if free < target else target
    if budget <= 0:
        return 0
    shares = math.floor(budget / (close * (1.0 + book.costs[SLIP])))
    while shares > 0 and buy_cost(book, close, shares) > budget:
        shares -= 1
    return shares


@jittable
def target_shares(close: float, target: float) -> int:
    """``NewsbtStrategy.target_shares``: whole shares worth ``target`` (shorts need no cash)."""
    return math.floor(target / close)


@jittable
def touch(book: Book, j: int) -> None:
    if not book.ti[IS_TOUCHED, j]:
        book.ti[IS_TOUCHED, j] = 1
        book.ti[TOUCHED, book.n[N_TOUCHED]] = j
        book.n[N_TOUCHED] += 1


@jittable
def position(book: Book, j: int) -> int:
    """``getposition(data).size``, which also registers the position with the broker (``touch``).

    The order in which positions are registered is the order the broker sums their values and fees
    in; it is settled on the first session (the recorder registers every position at its close). A
    hot loop may therefore read ``book.ti[SIZE, j]`` directly after session 0: a call that passes
    the book costs more than the read.
    """
    touch(book, j)
    return book.ti[SIZE, j]


@jittable
def submit(book: Book, mk: Market, i: int, j: int, size: int) -> None:
    """``NewsbtStrategy.submit``: a market order for the next open; a buy sets its cost aside."""
    if size == 0:
        return
    if book.ti[PENDING, j] or (book.ti[SIZE, j] != 0 and size != -book.ti[SIZE, j]):
        raise ValueError("the fast engine takes one pending order per ticker, opening from flat or closing to flat")
    book.ti[PENDING, j] = 1
    book.ti[O_SIZE, j], book.tf[O_PRICE, j], book.ti[O_DAY, j] = size, mk.px[CLOSE, i, j], i
    book.tf[O_RESERVED, j] = buy_cost(book, mk.px[CLOSE, i, j], size) if size > 0 else 0.0
    if size > 0:
        book.f[RESERVED] += book.tf[O_RESERVED, j]
    book.ti[SUB, book.n[N_SUB]] = j
    book.n[N_SUB] += 1


@jittable
def close_position(book: Book, mk: Market, i: int, j: int) -> None:
    submit(book, mk, i, j, -position(book, j))


@jittable
def _release(book: Book, j: int) -> None:
    """The strategy hears its order is done: no longer pending, its reserved cash free again."""
    book.ti[PENDING, j] = 0
    book.f[RESERVED] -= book.tf[O_RESERVED, j]


@jittable
def _refuse(book: Book, j: int) -> None:
    r = book.n[N_REFUSED]
    book.li[RF_TICK, r], book.li[RF_DAY, r], book.li[RF_SIZE, r] = j, book.ti[O_DAY, j], book.ti[O_SIZE, j]
    book.n[N_REFUSED] += 1
    _release(book, j)


@jittable
def _check_submitted(book: Book) -> None:
    """Pseudo-execute the new orders at their created price against the running cash."""
    cash = book.f[CASH]
    for s in range(book.n[N_SUB]):
        j = book.ti[SUB, s]
        touch(book, j)
        cash = cash - book.ti[O_SIZE, j] * book.tf[O_PRICE, j]
        cash -= commission(book.costs, book.ti[O_SIZE, j], book.tf[O_PRICE, j])
        if cash >= 0.0:
            book.ti[ACC, book.n[N_ACC]] = j
            book.n[N_ACC] += 1
        else:
            _refuse(book, j)
    book.n[N_SUB] = 0


@jittable
def _charge_borrow(book: Book, mk: Market, i: int) -> None:
    """``CostModel.get_credit_interest`` for each position, in the broker's order, then debited at once."""
    credit = 0.0
    for t in range(book.n[N_TOUCHED]):
        j = book.ti[TOUCHED, t]
        held = book.ti[SIZE, j]
        if held == 0:
            continue
        days = mk.ix[LASTDAY, i, j] - book.ti[POS_DAY, j]
        if held < 0 and days > 0 and book.costs[BORROW] != 0.0:
            last = mk.px[PREV, i, j]
            fee = days * book.costs[BORROW] / DAYS_PER_YEAR * abs(held) * last
            b = book.n[N_BORROW]
            book.li[BR_TICK, b], book.li[BR_DAY, b], book.li[BR_DAYS, b] = j, i, days
            book.lf[BR_VALUE, b], book.lf[BR_FEE, b] = abs(held) * last, fee
            book.n[N_BORROW] += 1
            book.tf[T_BORROW, j] += fee
            credit += fee
        book.ti[POS_DAY, j] = mk.ix[LASTDAY, i, j]
    book.f[CASH] -= credit


@jittable
def _fill(book: Book, mk: Market, i: int, j: int) -> None:
    """``BackBroker._execute`` of a market order at the open, with slippage (refused if cash runs short)."""
    size, open_, slip = book.ti[O_SIZE, j], mk.px[OPEN, i, j], book.costs[SLIP]
    price = open_
    if slip != 0.0:
        price = open_ * (1.0 + slip) if size > 0 else open_ * (1.0 - slip)
    comm = commission(book.costs, size, price)
    held = book.ti[SIZE, j]
    cash = book.f[CASH]
    if held == 0:
        cash = cash - size * price
        cash -= comm
        if cash < 0.0:
            _refuse(book, j)
            return
        book.ti[SIZE, j], book.tf[PRICE, j], book.ti[POS_DAY, j] = size, price, mk.day[i]
        book.n[N_OPEN] += 1
        book.ti[OPENED_COUNT, j], book.ti[OPENED_SIZE, j], book.tf[OPENED_PRICE, j] = mk.ix[COUNT, i, j], size, size * price / size
        book.tf[T_COMM, j], book.tf[T_BORROW, j] = comm, 0.0
    else:
        entry = book.tf[PRICE, j]
        cash = cash + (held * entry + held * (price - entry) * 1.0)
        cash -= comm
        book.ti[SIZE, j], book.tf[PRICE, j] = 0, 0.0
        book.n[N_OPEN] -= 1
        _close_trade(book, held, price, comm, size, j)
    book.f[CASH] = cash
    k = book.n[N_FILLS]
    book.li[FL_TICK, k], book.li[FL_DAY, k], book.li[FL_SIZE, k] = j, i, size
    book.lf[FL_PRICE, k], book.lf[FL_OPEN, k], book.lf[FL_COMM, k] = size * price / size, open_, comm
    book.n[N_FILLS] += 1
    _release(book, j)


@jittable
def _close_trade(book: Book, held: int, price: float, comm: float, size: int, j: int) -> None:
    """The round trip's pnl as ``newsbt.backtest.trades`` computes it (for sweep rows' win rate)."""
    entry = book.tf[OPENED_PRICE, j]
    exit_price = (0.0 - (size * price / size) * size) / held
    total_comm = book.tf[T_COMM, j] + comm * size / size
    book.lf[T_PNL, book.n[N_TRADES]] = (exit_price - entry) * held - total_comm - book.tf[T_BORROW, j]
    book.n[N_TRADES] += 1


@jittable
def _broker_value(book: Book, mk: Market, i: int) -> float:
    """``BackBroker._get_value``: longs as cost plus unrealised gain, shorts at market, in the broker's order."""
    total = 0.0
    for t in range(book.n[N_TOUCHED]):
        j = book.ti[TOUCHED, t]
        held = book.ti[SIZE, j]
        if held == 0:
            continue
        close = mk.px[CLOSE, i, j]
        value = held * close
        gain = held * (close - book.tf[PRICE, j]) * 1.0
        if value > 0:
            total = total + (value - gain) / 1.0
            total = total + gain
        else:
            total = total + value
    return book.f[CASH] + total


@njit(cache=True, inline="always")  # saves a call per session
def open_session(book: Book, mk: Market, i: int) -> None:
    """The broker's ``next`` for session ``i``: checks, borrow fees, fills; then the value strategies size on."""
    # Each step is skipped when it has nothing to do: a call that passes the book costs more than the check.
    if book.n[N_SUB]:
        _check_submitted(book)
    if book.n[N_OPEN]:
        _charge_borrow(book, mk, i)
    if book.n[N_ACC]:
        _fill_accepted(book, mk, i)
    book.f[VALUE] = _broker_value(book, mk, i) if book.n[N_OPEN] else book.f[CASH]


@jittable
def _fill_accepted(book: Book, mk: Market, i: int) -> None:
    """Accepted orders whose ticker printed a bar fill, in the order they were accepted; the rest wait."""
    waiting = 0
    for a in range(book.n[N_ACC]):
        j = book.ti[ACC, a]
        if mk.ix[BAR, i, j]:
            _fill(book, mk, i, j)
        else:
            book.ti[ACC, waiting] = j
            waiting += 1
    book.n[N_ACC] = waiting


@njit(cache=True, inline="always")  # saves a call per session
def close_session(book: Book, mk: Market, i: int) -> None:
    """Cash interest for the days since the last session, then the recorder's value, cash and exposure."""
    if i == 0:  # the recorder reads every position on the first session
        for j in range(mk.own.shape[0]):
            touch(book, j)
    rate = book.costs[RATE]
    if rate != 0.0 and i > 0 and book.f[CASH] > 0:
        amount = book.f[CASH] * rate / DAYS_PER_YEAR * (mk.day[i] - mk.day[i - 1])
        book.f[CASH] += amount
        book.f[INTEREST] += amount
    positions, gross = 0.0, 0.0
    for j in range(mk.own.shape[0] if book.n[N_OPEN] else 0):
        if book.ti[SIZE, j] != 0:
            value = book.ti[SIZE, j] * mk.px[CLOSE, i, j]
            positions += value
            gross += abs(value)
    book.bars[EQUITY, i] = book.f[CASH] + positions
    book.bars[BAR_CASH, i] = book.f[CASH]
    book.bars[GROSS, i] = gross
