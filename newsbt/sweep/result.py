"""A finished sweep as users hold it (``api.sweep``): the ranked table, heatmaps, notebook output."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.reports.charts import figure_png, png_data_uri
from newsbt.sweep.report import heatmap_figure, top_table
from newsbt.sweep.runner import SweepOutcome
from newsbt.sweep.stats import best_combination, heatmap_pairs, ranked

import matplotlib.pyplot as plt  # noqa: E402 - after newsbt.reports has chosen the backend (headless)

NOTEBOOK_ROWS = 10
NOTEBOOK_HEATMAPS = 3


@dataclass(frozen=True)
class SweepResult:
    """Every combination ranked (``table``), its daily returns, heatmaps, and the report page if written."""

    outcome: SweepOutcome
    page: Path | None = None

    @property
    def metric(self) -> str:
        return self.outcome.sweep.settings.metric

    @property
    def names(self) -> tuple[str, ...]:
        return self.outcome.sweep.names

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per combination, best first by the sweep's metric (``rank`` 1..; errors last)."""
        return ranked(self.outcome.table, self.metric)

    @property
    def returns(self) -> pd.DataFrame:
        return self.outcome.returns

    @property
    def best(self) -> dict[str, Any] | None:
        """The best combination's parameters, None when none ran."""
        best = best_combination(self.outcome.table, self.metric)
        if best is None:
            return None
        row = self.outcome.table.set_index("combination").loc[best]
        return {name: row[name].item() if hasattr(row[name], "item") else row[name] for name in self.names}

    def heatmap(self, x: str, y: str = "") -> plt.Figure:
        """A figure of the mean metric for each (x, y) pair of values, averaged over the other parameters."""
        for name in (x, y):
            if name and name not in self.names:
                raise NewsbtError(f"{name!r} is not a swept parameter; the sweep varies {', '.join(self.names)}")
        with plt.style.context("default"):
            return heatmap_figure(self.outcome.table, self.metric, x, y, self.names)

    def _repr_html_(self) -> str:
        """Notebook output: what ran, the best combination, the top rows and the heatmaps inline."""
        sweep, esc = self.outcome.sweep, html.escape
        best = ", ".join(f"{k}={v}" for k, v in (self.best or {}).items()) or "none"
        maps = []
        for x, y in heatmap_pairs(self.outcome.table, self.names)[:NOTEBOOK_HEATMAPS]:
            figure = self.heatmap(x, y)
            maps.append(f'<img src="{png_data_uri(figure_png(figure))}" alt="{esc(self.metric)} by {esc(x)} and {esc(y)}">')
            plt.close(figure)
        failed = int(self.outcome.table["error"].notna().sum())
        page = f"<br>report: {esc(str(self.page))}" if self.page else ""
        return (f"<div><b>{esc(sweep.spec.run.name)}</b>: {esc(sweep.describe())}; ranked by {esc(self.metric)}, "
                f"best {esc(best)}; {failed} failed{page}"
                f"{top_table(self.table.head(NOTEBOOK_ROWS), self.names)}<div>{''.join(maps)}</div></div>")
