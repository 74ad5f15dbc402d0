"""buy_and_hold's fast form: ``BuyAndHold.next`` as a compiled loop on newsbt's compiled broker."""

from __future__ import annotations


from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices
from strategies.buy_and_hold import BuyAndHold


def simulate(prices: Prices, book: kb.Book, p: BuyAndHold.Params, news: Arrivals) -> None:
    _loop(prices.market, book)


@kb.session_loop
def _loop(mk: kb.Market, book: kb.Book) -> None:
    for i in range(mk.day.shape[0]):
        kb.open_session(book, mk, i)
        if mk.ix[kb.BAR, i, 0] and kb.position(book, 0) == 0 and not book.ti[kb.PENDING, 0]:
            kb.submit(book, mk, i, 0, kb.affordable_shares(book, mk.px[kb.CLOSE, i, 0], book.f[kb.VALUE]))
        kb.close_session(book, mk, i)
