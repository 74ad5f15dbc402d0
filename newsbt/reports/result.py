"""A run's result as users hold it: returns, trades, equity, headline stats and the report writers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from newsbt.backtest.engine import RunResult
from newsbt.backtest.metrics import headline, return_metrics
from newsbt.backtest.spec import BacktestSpec
from newsbt.reports.run import tearsheet_title, write_run, write_tearsheet


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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tearsheet(self.returns, self.benchmark_returns, path, title=tearsheet_title(self.run))
        return path

    def write(self, out_dir: str | Path, tearsheet: bool = True) -> Path:
        """Write every output (tearsheet, trades, equity, summary) into ``out_dir``."""
        return write_run(self.run, Path(out_dir), tearsheet=tearsheet)
