"""A run's result as users hold it: returns, trades, equity, headline stats, the report writers, and how it
shows in a notebook (``_repr_html_``, ``plot``)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from newsbt.backtest.engine import RunResult
from newsbt.backtest.metrics import headline, return_metrics
from newsbt.backtest.spec import BacktestSpec
from newsbt.reports.figures import side_by_side
from newsbt.reports.htmlpage import table
from newsbt.reports.run import tearsheet_title, write_run
from newsbt.reports.tearsheet import write_tearsheet

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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

    @property
    def benchmark_equity(self) -> pd.Series:
        """The benchmark's value had it started with the same cash (both count from the first close)."""
        value = self.spec.run.cash * (1.0 + self.benchmark_returns).cumprod()
        return value.rename(self.spec.run.benchmark_label)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Draw the equity curve beside the benchmark's on ``ax`` (a new pyplot figure if None); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(9, 3.5))
        return self._draw(ax)

    def _draw(self, ax: Axes) -> Axes:
        from newsbt.reports.charts import equity_chart  # pyplot only when a chart is drawn

        run = self.spec.run
        return equity_chart(ax, self.equity, self.benchmark_equity, (self.spec.strategy.name, run.benchmark_label),
                            f"{run.name}: {self.spec.strategy.name} vs {run.benchmark_label}, {run.start} to {run.end}")

    def _repr_html_(self) -> str:
        """Notebook output: headline figures beside the benchmark's, and the equity chart inline."""
        from matplotlib.figure import Figure

        from newsbt.reports.charts import figure_png, png_data_uri

        figure = Figure(figsize=(8, 3), dpi=90)
        self._draw(figure.subplots())
        spec = self.spec
        figures = table(["", spec.strategy.name, spec.run.benchmark_label],
                        side_by_side(self.stats, self.benchmark_stats), numeric={1, 2}, sortable=False)
        return (f'<div class="newsbt-result"><b>{html.escape(spec.run.name)}</b>: {html.escape(spec.strategy.name)} '
                f"vs {html.escape(spec.run.benchmark_label)}, {spec.run.start} to {spec.run.end}"
                f'<div style="display:flex;gap:1em;align-items:flex-start">{figures}'
                f'<img src="{png_data_uri(figure_png(figure))}" alt="equity curve"></div></div>')

    def tearsheet(self, path: str | Path) -> Path:
        """Write the QuantStats tearsheet (strategy vs benchmark) to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tearsheet(self.returns, self.benchmark_returns, path, title=tearsheet_title(self.run))
        return path

    def write(self, out_dir: str | Path, tearsheet: bool = True) -> Path:
        """Write every output (tearsheet, trades, equity, summary) into ``out_dir``."""
        return write_run(self.run, Path(out_dir), tearsheet=tearsheet)
