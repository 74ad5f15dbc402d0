"""Write a run's outputs: tearsheet.html, trades.csv, equity.csv and summary.json.

Everything is computed before the first byte is written, and each file is written to a temporary
name and renamed into place, so a failure never leaves a half-written report behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never open a window, whatever backend the user's environment prefers

import pandas as pd  # noqa: E402

from newsbt.atomic import atomic_write_text, temporary_path  # noqa: E402
from newsbt.engine import RunResult  # noqa: E402
from newsbt.metrics import headline, return_metrics  # noqa: E402

PRICE_DECIMALS = 6


def summary(result: RunResult) -> dict[str, Any]:
    """summary.json's content: headline figures, what was run, and anything worth a second look."""
    spec = result.spec
    return {
        "name": spec.run.name,
        "strategy": spec.strategy.name,
        "parameters": result.params.model_dump(mode="json"),
        "run": spec.run.model_dump(mode="json"),
        "costs": spec.costs.model_dump(mode="json"),
        "benchmark": spec.run.benchmark_label,
        "first_session": str(result.returns.index[0].date()),
        "last_session": str(result.returns.index[-1].date()),
        "final_value": round(float(result.equity.iloc[-1]), 2),
        "metrics": headline(result.returns, result.trades, result.gross_exposure, result.benchmark_returns),
        "benchmark_metrics": return_metrics(result.benchmark_returns),
        "costs_paid": costs_paid(result),
        "open_positions_at_end": result.open_positions.astype({"entry_date": str}).to_dict("records"),
        "refused_orders": result.refused_orders.astype({"placed_date": str}).to_dict("records"),
        "tickers_without_data": list(result.idle_tickers),
    }


def costs_paid(result: RunResult) -> dict[str, float]:
    """Commission, slippage (fill price vs the bar's open, all fills being at the open) and borrow."""
    fills = result.fills
    slippage = ((fills["price"] - fills["bar_open"]).abs() * fills["size"].abs()).sum()
    return {
        "commission": round(float(fills["commission"].sum()), 2),
        "slippage": round(float(slippage), 2),
        "borrow": round(float(result.borrow_charges["fee"].sum()), 2),
        "cash_interest_earned": round(float(result.cash_interest), 2),
    }


def write_run(result: RunResult, out_dir: Path, tearsheet: bool = True) -> Path:
    """Write all outputs of ``result`` into ``out_dir``; returns the tearsheet's (or summary's) path."""
    files: dict[str, str] = {
        "trades.csv": result.trades.round(PRICE_DECIMALS).to_csv(index=False, lineterminator="\n"),
        "equity.csv": result.equity.round(PRICE_DECIMALS).rename("value").to_csv(
            index_label="date", date_format="%Y-%m-%d", lineterminator="\n"),
        "summary.json": json.dumps(summary(result), indent=2, sort_keys=False) + "\n",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    if tearsheet:
        write_tearsheet(result.returns, result.benchmark_returns, out_dir / "tearsheet.html",
                        title=tearsheet_title(result))
    for name, text in files.items():
        atomic_write_text(out_dir / name, text)
    return out_dir / ("tearsheet.html" if tearsheet else "summary.json")


def tearsheet_title(result: RunResult) -> str:
    spec = result.spec
    return f"{spec.run.name}: {spec.strategy.name} vs {spec.run.benchmark_label}"


def write_tearsheet(returns: pd.Series, benchmark: pd.Series, path: Path, title: str) -> None:
    """QuantStats' full HTML report of ``returns`` against ``benchmark`` (both aligned Series).

    QuantStats is handed Series only: given a ticker string it would download prices.
    """
    if not returns.index.equals(benchmark.index):
        raise ValueError("strategy and benchmark returns must share one index")
    import quantstats as qs

    with _quiet_reporting(), temporary_path(path) as tmp:
        qs.reports.html(returns, benchmark=benchmark, output=str(tmp), title=title,
                        benchmark_title=str(benchmark.name), download_filename=path.name)


@contextlib.contextmanager
def _quiet_reporting() -> Iterator[None]:
    """Silence QuantStats' and matplotlib's own noise (fonts, deprecations) during report building.

    Only warnings raised from inside those libraries are ignored, and only for the duration of the
    call; warnings from user code keep their normal treatment.
    """
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for module in ("quantstats", "matplotlib", "seaborn", "pandas", "numpy"):
                warnings.filterwarnings("ignore", module=module)
            yield
    finally:
        font_logger.setLevel(level)
