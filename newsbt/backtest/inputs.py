"""What a spec needs before it can run: its validated prices and news events, then the run itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from newsbt.backtest.engine import RunResult, required_tickers, run_backtest, strategy_tickers
from newsbt.backtest.spec import BacktestSpec
from newsbt.data.events import Event, load_events
from newsbt.data.intraday import available_intraday, load_intraday, resolve_intraday_dir
from newsbt.data.prices import available_tickers, load_prices, resolve_data_dir


def load_prices_for(spec: BacktestSpec, data_dir: str | Path | None = None, strategy: type | None = None,
                    tickers: Iterable[str] | None = None,
                    intraday_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Validated prices of every ticker the spec needs (``tickers``: strategy universe and benchmark).

    Intraday specs get the strategy tickers' bars (keyed ``NVDA_1h``) from ``intraday_dir``, else
    ``[run] intraday_dir``, else ``$NEWSBT_INTRADAY_DIR``, else ``data/intraday/``, else the embedded
    sample; benchmarks stay daily. A sweep passes the tickers all its combinations need.
    """
    tickers = list(tickers if tickers is not None else required_tickers(spec, strategy))
    period, directory = (spec.run.start, spec.run.end), resolve_data_dir(data_dir)
    if not spec.run.intraday:
        return load_prices(tickers, directory, period)
    benchmark_only = set(spec.run.benchmark_weights) - set(strategy_tickers(spec, strategy))
    bar_dir = resolve_intraday_dir(intraday_dir if intraday_dir is not None else spec.run.intraday_dir)
    return {**load_prices(list(spec.run.benchmark_weights), directory, period),
            **load_intraday([t for t in tickers if t not in benchmark_only], spec.run.bars, bar_dir)}


def load_events_for(spec: BacktestSpec, data_dir: str | Path | None = None,
                    intraday_dir: str | Path | None = None) -> tuple[Event, ...]:
    """The spec's news events (``[run] events``), checked against the tickers that have prices
    (daily files, and the spec's intraday bars when it has some)."""
    if spec.run.events is None:
        return ()
    known = available_tickers(resolve_data_dir(data_dir))
    if spec.run.intraday:
        bar_dir = resolve_intraday_dir(intraday_dir if intraday_dir is not None else spec.run.intraday_dir)
        known += available_intraday(spec.run.bars, bar_dir)
    return load_events(spec.run.events, known_tickers=known)


def run_spec(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame] | None = None,
             data_dir: str | Path | None = None, events: Sequence[Event] | None = None,
             strategy: type | None = None, intraday_dir: str | Path | None = None) -> RunResult:
    """Run ``spec``; ``prices`` and ``events`` default to what the spec names, read from ``data_dir``
    (and ``intraday_dir`` for intraday bars)."""
    if events is None:
        events = load_events_for(spec, data_dir, intraday_dir)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy, intraday_dir=intraday_dir)
    return run_backtest(spec, prices, events=events, strategy_cls=strategy)
