"""Fills -> round-trip trades.

A trade opens when a ticker's position leaves zero and closes when it returns to zero (a fill that
flips the position closes one trade and opens the next). Prices are size-weighted averages of the
fills on each side; ``pnl`` is net of commission and of the borrow fees charged while a short was
open, and slippage is already inside the fill prices.
"""

from __future__ import annotations

import pandas as pd

TRADE_COLUMNS = [
    "ticker", "entry_date", "entry_price", "exit_date", "exit_price", "size", "pnl", "return_pct",
    "commission", "borrow",
]


def round_trips(fills: pd.DataFrame, borrow: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Closed trades (one row each, by entry date) and the positions still open at the end.

    ``borrow`` (ticker, date, fee) holds the short fees debited; each is charged to the trade that was
    open on that date (entry_date < date <= exit_date).
    """
    closed: list[dict] = []
    still_open: list[dict] = []
    for ticker, group in fills.groupby("ticker", sort=False):
        trade: dict | None = None
        for fill in group.itertuples(index=False):
            trade = _apply_fill(trade, fill, ticker, closed)
        if trade is not None:
            still_open.append({"ticker": ticker, "entry_date": trade["entry_date"], "size": trade["size"]})
    trades = pd.DataFrame(closed, columns=TRADE_COLUMNS)
    trades["borrow"] = [_borrow_during(borrow, t) for t in trades.itertuples(index=False)]
    trades["pnl"] -= trades["borrow"]
    trades["return_pct"] = trades["pnl"] / (trades["entry_price"] * trades["size"]).abs() * 100.0
    trades = trades.sort_values(["entry_date", "ticker"], kind="stable").reset_index(drop=True)
    return trades, pd.DataFrame(still_open, columns=["ticker", "entry_date", "size"])


def _borrow_during(borrow: pd.DataFrame | None, trade) -> float:
    if borrow is None or borrow.empty:
        return 0.0
    mine = (borrow["ticker"] == trade.ticker) & (borrow["date"] > trade.entry_date) & (borrow["date"] <= trade.exit_date)
    return float(borrow.loc[mine, "fee"].sum())


def _apply_fill(trade: dict | None, fill, ticker: str, closed: list[dict]) -> dict | None:
    size, price, comm = fill.size, fill.price, fill.commission
    if trade is None:
        return _open(ticker, fill.date, size, price, comm)
    if (trade["size"] > 0) == (size > 0):  # adding to the position: average the entry
        total = trade["size"] + size
        trade["entry_price"] = (trade["entry_price"] * trade["size"] + price * size) / total
        trade["size"], trade["remaining"] = total, trade["remaining"] + size
        trade["commission"] += comm
        return trade
    closing = size if abs(size) <= abs(trade["remaining"]) else -trade["remaining"]
    trade["exit_value"] -= price * closing
    trade["remaining"] += closing
    trade["commission"] += comm * closing / size
    if trade["remaining"]:
        return trade
    closed.append(_closed_row(trade, fill.date))
    rest = size - closing  # a flip opens the next trade with what is left of the fill
    return _open(ticker, fill.date, rest, price, comm * rest / size) if rest else None


def _open(ticker: str, date, size: float, price: float, comm: float) -> dict:
    return {"ticker": ticker, "entry_date": date, "entry_price": price, "size": size,
            "remaining": size, "commission": comm, "exit_value": 0.0}


def _closed_row(trade: dict, exit_date) -> dict:
    size, entry = trade["size"], trade["entry_price"]
    exit_price = trade["exit_value"] / size
    return {
        "ticker": trade["ticker"], "entry_date": trade["entry_date"], "entry_price": entry,
        "exit_date": exit_date, "exit_price": exit_price, "size": size,
        "pnl": (exit_price - entry) * size - trade["commission"], "commission": trade["commission"],
    }
