"""What a spec needs before it can run: its validated prices and news events, then the run itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from newsbt.backtest.engine import RunResult, required_tickers, run_backtest
from newsbt.backtest.spec import BacktestSpec
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Event, load_events
from newsbt.data.prices import available_tickers, load_prices, resolve_data_dir


def load_prices_for(spec: BacktestSpec, data_dir: str | Path | None = None,
                    strategy: type | None = None) -> dict[str, pd.DataFrame]:
    """Validated prices of every ticker the spec needs (strategy universe and benchmark)."""
    return load_prices(required_tickers(spec, strategy), resolve_data_dir(data_dir), (spec.run.start, spec.run.end))


def load_events_for(spec: BacktestSpec, data_dir: str | Path | None = None) -> tuple[Event, ...]:
    """The spec's news events (``[run] events``), checked against the tickers that have prices."""
    if spec.run.events is None:
        return ()
    return load_events(spec.run.events, known_tickers=available_tickers(resolve_data_dir(data_dir)))


def run_spec(spec: BacktestSpec, prices: Mapping[str, pd.DataFrame] | None = None,
             data_dir: str | Path | None = None, events: Sequence[Event] | None = None,
             strategy: type | None = None) -> RunResult:
    """Run ``spec``; ``prices`` and ``events`` default to what the spec names, read from ``data_dir``."""
    if events is None:
        events = load_events_for(spec, data_dir)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy)
    if spec.run.engine == "fast":
        if strategy is not None:
            raise NewsbtError('engine = "fast" runs strategies registered with a fast form; '
                              'a strategy class passed directly runs on engine = "backtrader"')
        from newsbt.backtest.fast.runner import run_fast  # numba is imported only when asked for

        return run_fast(spec, prices, events)
    return run_backtest(spec, prices, events=events, strategy_cls=strategy)
