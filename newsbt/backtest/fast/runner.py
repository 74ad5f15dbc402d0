"""engine = "fast": a spec and prices in, the compiled simulator driven by the strategy's fast form, a result out.

A strategy opts in with a *fast form*: a function ``simulate(prices, book, params, news)`` declared
under the ``newsbt.fast_engines`` entry-point group with the strategy's name. It calls its own compiled
loop (``newsbt.backtest.fast.kernel`` does the broker's part); this module does the rest, the same way
for every strategy: prices aligned once per ticker set, costs, the log turned into a ``RunResult``
(``newsbt run``) or into the few arrays a sweep row needs (``FastRunner.summary``, no pandas per run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from newsbt.backtest.costs import BPS
from newsbt.backtest.engine import RunResult, collect_result, prices_of
from newsbt.backtest.fast import kernel as kb
from newsbt.backtest.fast.market import Arrivals, Prices, build_prices, news_arrivals
from newsbt.backtest.registry import fast_engine, get_strategy
from newsbt.backtest.spec import BacktestSpec, CostSpec
from newsbt.backtest.strategy import StrategyParams

FastForm = Callable[[Prices, kb.Book, StrategyParams, Arrivals], None]


def cost_array(costs: CostSpec) -> np.ndarray:
    """The costs as the kernel reads them, with the values ``newsbt.backtest.costs.configure`` gives backtrader."""
    return np.array([costs.commission_bps, costs.commission_per_share, costs.commission_min,
                     costs.slippage_bps * BPS, costs.borrow_fee_pct / 100.0, costs.cash_interest_pct / 100.0],
                    dtype=np.float64)


@dataclass(frozen=True)
class Summary:
    """What a sweep row needs of a run, as arrays."""

    dates: pd.DatetimeIndex
    equity: np.ndarray
    gross_exposure: np.ndarray
    trade_pnl: np.ndarray  # closed round trips, net of commission and borrow
    refused: int


@dataclass
class FastRunner:
    """Runs specs of one strategy on prices held in memory; aligned prices and news are kept per ticker set."""

    prices: Mapping[str, pd.DataFrame]
    events: Sequence[Any] = ()
    signals: pd.DataFrame | None = None  # the spec's news-store signals ([run] news), as run_backtest takes them
    _aligned: dict[tuple, tuple[Prices, Arrivals]] = field(default_factory=dict, init=False, repr=False)

    def __call__(self, spec: BacktestSpec) -> RunResult:
        params, prices, book = self._simulate(spec)
        record = _record(book, prices)
        return collect_result(spec, params, record, self.prices, idle=prices.idle, closes=prices.closes,
                              events=tuple(self.events))

    def summary(self, spec: BacktestSpec) -> Summary:
        _, prices, book = self._simulate(spec)
        return Summary(prices.dates, book.bars[kb.EQUITY], book.bars[kb.GROSS],
                       book.lf[kb.T_PNL, : book.n[kb.N_TRADES]].copy(), int(book.n[kb.N_REFUSED]))

    def _simulate(self, spec: BacktestSpec) -> tuple[StrategyParams, Prices, kb.Book]:
        simulate: FastForm = fast_engine(spec.strategy.name)
        params = get_strategy(spec.strategy.name).Params.model_validate(spec.strategy.params)
        tickers = tuple(params.required_tickers())
        key = (tickers, spec.run.start, spec.run.end)
        if key not in self._aligned:
            frames = {t: prices_of(self.prices, t) for t in tickers}
            aligned = build_prices(frames, tickers, spec.run.start, spec.run.end)
            self._aligned[key] = aligned, news_arrivals(self.events, aligned.dates, self.signals, aligned.tickers)
        prices, news = self._aligned[key]
        book = kb.new_book(len(prices.dates), len(prices.tickers), spec.run.cash, cost_array(spec.costs))
        simulate(prices, book, params, news)
        return params, prices, book


def run_fast(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame], events: Sequence[Any] = (),
             signals: pd.DataFrame | None = None) -> RunResult:
    """``spec`` on the compiled simulator (``run_backtest``'s twin for strategies with a fast form)."""
    return FastRunner(prices, events, signals)(spec)


def _record(book: kb.Book, prices: Prices) -> dict[str, Any]:
    """The kernel's log in the Recorder's shape (what ``collect_result`` reads)."""
    names, dates = prices.tickers, prices.dates.date

    def log(count: int, ints: tuple[int, ...], floats: tuple[int, ...]) -> list[list]:
        columns = [book.li[r, :count].tolist() for r in ints] + [book.lf[r, :count].tolist() for r in floats]
        return [list(row) for row in zip(*columns)]

    fills = [{"ticker": names[j], "date": dates[d], "size": s, "price": p, "bar_open": o, "commission": c}
             for j, d, s, p, o, c in log(book.n[kb.N_FILLS], (kb.FL_TICK, kb.FL_DAY, kb.FL_SIZE),
                                         (kb.FL_PRICE, kb.FL_OPEN, kb.FL_COMM))]
    refused = [{"ticker": names[j], "placed_date": dates[d], "size": s, "reason": "Margin"}
               for j, d, s in log(book.n[kb.N_REFUSED], (kb.RF_TICK, kb.RF_DAY, kb.RF_SIZE), ())]
    borrow = [{"ticker": names[j], "date": dates[d], "days": n, "short_value": v, "fee": f}
              for j, d, n, v, f in log(book.n[kb.N_BORROW], (kb.BR_TICK, kb.BR_DAY, kb.BR_DAYS),
                                       (kb.BR_VALUE, kb.BR_FEE))]
    equity, cash, gross = (book.bars[r].tolist() for r in (kb.EQUITY, kb.BAR_CASH, kb.GROSS))
    bars = [{"date": d, "value": v, "cash": c, "gross_exposure": g} for d, v, c, g in zip(dates, equity, cash, gross)]
    return {"fills": fills, "refused": refused, "bars": bars, "borrow": borrow, "cash_interest": float(book.f[kb.INTEREST])}
