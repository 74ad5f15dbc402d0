"""What a spec needs before it can run: its validated prices, news events and news signals, then the run."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from newsbt.backtest.engine import RunResult, required_tickers, run_backtest, strategy_tickers
from newsbt.backtest.registry import get_strategy
from newsbt.backtest.spec import BacktestSpec
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Event, load_events
from newsbt.data.intraday import available_intraday, load_intraday, resolve_intraday_dir
from newsbt.data.news.signals import daily_signals
from newsbt.data.news.store import coverage_gaps, read_store
from newsbt.data.sources import price_sources


class NewsCoverageWarning(UserWarning):
    """A run's dates reach outside the news coverage of one of its tickers."""


def load_prices_for(spec: BacktestSpec, data_dir: str | Path | None = None, strategy: type | None = None,
                    tickers: Iterable[str] | None = None,
                    intraday_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Validated prices of every ticker the spec needs (``tickers``: strategy universe and benchmark).

    Daily prices come from the first source holding each ticker (:mod:`newsbt.data.sources`).
    Intraday specs get the strategy tickers' bars (keyed ``NVDA_1h``) from ``intraday_dir``, else
    ``[run] intraday_dir``, else ``$NEWSBT_INTRADAY_DIR``, else ``data/intraday/``, else the embedded
    sample; benchmarks stay daily. A sweep passes the tickers all its combinations need.
    """
    tickers = list(tickers if tickers is not None else required_tickers(spec, strategy))
    period, sources = (spec.run.start, spec.run.end), price_sources(data_dir)
    if not spec.run.intraday:
        return sources.load(tickers, period)
    benchmark_only = set(spec.run.benchmark_weights) - set(strategy_tickers(spec, strategy))
    bar_dir = resolve_intraday_dir(intraday_dir if intraday_dir is not None else spec.run.intraday_dir)
    return {**sources.load(list(spec.run.benchmark_weights), period),
            **load_intraday([t for t in tickers if t not in benchmark_only], spec.run.bars, bar_dir)}


def load_events_for(spec: BacktestSpec, data_dir: str | Path | None = None,
                    intraday_dir: str | Path | None = None) -> tuple[Event, ...]:
    """The spec's news events (``[run] events``), checked against the tickers that have prices
    (daily files, and the spec's intraday bars when it has some)."""
    if spec.run.events is None:
        return ()
    known = price_sources(data_dir).tickers()
    if spec.run.intraday:
        bar_dir = resolve_intraday_dir(intraday_dir if intraday_dir is not None else spec.run.intraday_dir)
        known += available_intraday(spec.run.bars, bar_dir)
    return load_events(spec.run.events, known_tickers=known)


def load_signals_for(spec: BacktestSpec, strategy: type | None = None) -> pd.DataFrame | None:
    """Daily news signals from the spec's headline store (``[run] news``), up to the run's end.

    Warns (``NewsCoverageWarning``) for each traded ticker whose news does not span the run's dates:
    a quiet stretch in a feed looks exactly like a quiet stretch in the news.
    """
    if spec.run.news is None:
        return None
    store = read_store(spec.run.news)
    if not store.scorers:
        raise NewsbtError(f"{store.path}: the news store has no sentiment scores yet; add them with: "
                          f"newsbt news score --store {store.path}")
    params = (strategy or get_strategy(spec.strategy.name)).Params.model_validate(spec.strategy.params)
    start, end = pd.Timestamp(spec.run.start), pd.Timestamp(spec.run.end)
    for gap in coverage_gaps(store, params.required_tickers(), start, end):
        warnings.warn(gap, NewsCoverageWarning, stacklevel=2)
    return daily_signals(store.stories, end=end)


def run_spec(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame] | None = None,
             data_dir: str | Path | None = None, events: Sequence[Event] | None = None,
             strategy: type | None = None, signals: pd.DataFrame | None = None,
             intraday_dir: str | Path | None = None) -> RunResult:
    """Run ``spec``; ``prices``, ``events`` and ``signals`` default to what the spec names, read from
    ``data_dir`` (and ``intraday_dir`` for intraday bars)."""
    if events is None:
        events = load_events_for(spec, data_dir, intraday_dir)
    if signals is None:
        signals = load_signals_for(spec, strategy)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy, intraday_dir=intraday_dir)
    if spec.run.engine == "fast":
        if strategy is not None:
            raise NewsbtError('engine = "fast" runs strategies registered with a fast form; '
                              'a strategy class passed directly runs on engine = "backtrader"')
        from newsbt.backtest.fast.runner import run_fast  # numba is imported only when asked for

        return run_fast(spec, prices, events, signals)
    return run_backtest(spec, prices, events=events, strategy_cls=strategy, signals=signals)
