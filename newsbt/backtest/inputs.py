"""What a spec needs before it can run: its validated prices, news events and news signals, then the run."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from newsbt.backtest.engine import RunResult, required_tickers, run_backtest
from newsbt.backtest.registry import get_strategy
from newsbt.backtest.spec import BacktestSpec
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Event, load_events
from newsbt.data.newssignals import daily_signals
from newsbt.data.newsstore import coverage_gaps, read_store
from newsbt.data.sources import price_sources


class NewsCoverageWarning(UserWarning):
    """A run's dates reach outside the news coverage of one of its tickers."""


def load_prices_for(spec: BacktestSpec, data_dir: str | Path | None = None,
                    strategy: type | None = None) -> dict[str, pd.DataFrame]:
    """Validated prices of every ticker the spec needs (strategy universe and benchmark), each from the
    first source holding it (:mod:`newsbt.data.sources`)."""
    return price_sources(data_dir).load(required_tickers(spec, strategy), (spec.run.start, spec.run.end))


def load_events_for(spec: BacktestSpec, data_dir: str | Path | None = None) -> tuple[Event, ...]:
    """The spec's news events (``[run] events``), checked against the tickers that have prices."""
    if spec.run.events is None:
        return ()
    return load_events(spec.run.events, known_tickers=price_sources(data_dir).tickers())


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
             strategy: type | None = None, signals: pd.DataFrame | None = None) -> RunResult:
    """Run ``spec``; ``prices``, ``events`` and ``signals`` default to what the spec names."""
    if events is None:
        events = load_events_for(spec, data_dir)
    if signals is None:
        signals = load_signals_for(spec, strategy)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy)
    if spec.run.engine == "fast":
        if strategy is not None:
            raise NewsbtError('engine = "fast" runs strategies registered with a fast form; '
                              'a strategy class passed directly runs on engine = "backtrader"')
        from newsbt.backtest.fast.runner import run_fast  # numba is imported only when asked for

        return run_fast(spec, prices, events)
    return run_backtest(spec, prices, events=events, strategy_cls=strategy, signals=signals)
