"""The Python API: load or build a spec, run it, read the results.

    from newsbt import api
    spec = api.load_spec("backtests/ai_crash_dip.toml", ["strategy.drop_pct=10"])
    result = api.run(spec)                      # prices from $NEWSBT_DATA_DIR or data/prices/
    result.stats["sharpe"], result.trades.head()
    result.tearsheet("my_tearsheet.html")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from newsbt.engine import RunResult, required_tickers, run_backtest
from newsbt.metrics import headline, return_metrics
from newsbt.events import Event, load_events
from newsbt.prices import available_tickers, load_prices, resolve_data_dir
from newsbt.spec import BacktestSpec, load_spec, spec_from_dict

__all__ = ["Result", "load_spec", "spec_from_dict", "load_prices_for", "load_events_for", "run"]


@dataclass(frozen=True)
class Result:
    """What a run gives back: returns, benchmark returns, trades, equity, stats and report writers."""

    run: RunResult

    @property
    def spec(self) -> BacktestSpec:
        return self.run.spec

    @property
    def returns(self) -> pd.Series:
        return self.run.returns

    @property
    def benchmark_returns(self) -> pd.Series:
        return self.run.benchmark_returns

    @property
    def trades(self) -> pd.DataFrame:
        return self.run.trades

    @property
    def equity(self) -> pd.Series:
        return self.run.equity

    @cached_property
    def stats(self) -> dict[str, Any]:
        return headline(self.run.returns, self.run.trades, self.run.gross_exposure, self.run.benchmark_returns)

    @cached_property
    def benchmark_stats(self) -> dict[str, Any]:
        return return_metrics(self.run.benchmark_returns)

    def tearsheet(self, path: str | Path) -> Path:
        """Write the QuantStats tearsheet (strategy vs benchmark) to ``path``."""
        from newsbt.report import tearsheet_title, write_tearsheet

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tearsheet(self.returns, self.benchmark_returns, path, title=tearsheet_title(self.run))
        return path

    def write(self, out_dir: str | Path, tearsheet: bool = True) -> Path:
        """Write every output (tearsheet, trades, equity, summary) into ``out_dir``."""
        from newsbt.report import write_run

        return write_run(self.run, Path(out_dir), tearsheet=tearsheet)


def load_prices_for(spec: BacktestSpec, data_dir: str | Path | None = None,
                    strategy: type | None = None) -> dict[str, pd.DataFrame]:
    """Validated prices of every ticker the spec needs (strategy universe and benchmark)."""
    return load_prices(required_tickers(spec, strategy), resolve_data_dir(data_dir), (spec.run.start, spec.run.end))


def load_events_for(spec: BacktestSpec, data_dir: str | Path | None = None) -> tuple[Event, ...]:
    """The spec's news events (``[run] events``), checked against the tickers that have prices."""
    if spec.run.events is None:
        return ()
    return load_events(spec.run.events, known_tickers=available_tickers(resolve_data_dir(data_dir)))


def run(
    spec: BacktestSpec | Mapping[str, Any] | str | Path,
    prices: Mapping[str, pd.DataFrame] | None = None,
    data_dir: str | Path | None = None,
    events: Sequence[Event] | None = None,
    overrides: Iterable[str] = (),
    strategy: type | None = None,
) -> Result:
    """Run a backtest from a spec object, a dict shaped like a backtest file, or a file path.

    ``prices`` and ``events`` default to what the spec names, read from ``data_dir``. ``strategy``
    runs a strategy class directly instead of the registered name in the spec.
    """
    if isinstance(spec, (str, Path)):
        spec = load_spec(spec, overrides)
    elif not isinstance(spec, BacktestSpec):
        spec = spec_from_dict(spec, strategy_cls=strategy)
    if events is None:
        events = load_events_for(spec, data_dir)
    if prices is None:
        prices = load_prices_for(spec, data_dir, strategy)
    return Result(run_backtest(spec, prices, events=events, strategy_cls=strategy))
