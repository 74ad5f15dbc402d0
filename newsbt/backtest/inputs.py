"""What a spec needs before it can run: its validated prices and news events, then the run itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from newsbt.backtest.engine import RunResult, required_tickers, run_backtest
from newsbt.backtest.spec import BacktestSpec
from newsbt.data.events import Event, load_events
from newsbt.data.sources import price_sources


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


def run_spec(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame] | None = None,
             data_dir: str | Path | None = None, events: Sequence[Event] | None = None,
             strategy: type | None = None) -> RunResult:
    """Run ``spec``; ``prices`` and ``events`` default to what the spec names, read from ``data_dir``."""
    if events is None:
        events = load_events_for(spec, data_dir)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy)
    return run_backtest(spec, prices, events=events, strategy_cls=strategy)
