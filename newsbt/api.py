"""The Python API: load or build a spec, run it, read the results.

    from newsbt import api
    spec = api.load_spec("backtests/ai_crash_dip.toml", ["strategy.drop_pct=10"])
    result = api.run(spec)      # prices: --data-dir/$NEWSBT_DATA_DIR, data/prices/, else the bundled sample
    result.stats["sharpe"], result.trades.head(), result.plot()
    result.tearsheet("my_tearsheet.html")
    sweep = api.sweep("backtests/ai_crash_dip_sweep.toml", grid={"drop_pct": [5, 7, 10]})
    sweep.table.head(), sweep.heatmap("drop_pct", "hold_days")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from newsbt.backtest.inputs import load_events_for, load_prices_for, load_signals_for, run_spec
from newsbt.backtest.registry import load_entry_points
from newsbt.backtest.spec import BacktestSpec, load_spec, spec_from_dict
from newsbt.data.events import Event
from newsbt.reports.result import Result

if TYPE_CHECKING:  # imported when used: the study pulls in SciPy (~1 s), which a run never needs
    from newsbt.study.runner import StudyOutcome
    from newsbt.sweep.result import SweepResult

__all__ = ["Result", "SweepResult", "StudyOutcome", "load_spec", "spec_from_dict", "load_prices_for", "load_events_for",
           "load_signals_for", "run", "sweep", "study"]



def __getattr__(name: str) -> Any:
    """``api.StudyOutcome`` and ``api.SweepResult``, imported on first use (see the imports above)."""
    if name == "StudyOutcome":
        from newsbt.study.runner import StudyOutcome
        return StudyOutcome
    if name == "SweepResult":
        from newsbt.sweep.result import SweepResult
        return SweepResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


load_entry_points()  # the API is an edge: installed strategies (built-in or third-party) are known by name


def run(
    spec: BacktestSpec | Mapping[str, Any] | str | Path,
    prices: Mapping[str, pd.DataFrame] | None = None,
    data_dir: str | Path | None = None,
    events: Sequence[Event] | None = None,
    overrides: Iterable[str] = (),
    strategy: type | None = None,
    signals: pd.DataFrame | None = None,
    intraday_dir: str | Path | None = None,
) -> Result:
    """Run a backtest from a spec object, a dict shaped like a backtest file, or a file path.

    ``prices``, ``events`` and the news ``signals`` default to what the spec names, read from
    ``data_dir`` (intraday bars from ``intraday_dir``) and ``[run] news``. ``strategy`` runs a
    strategy class directly instead of the registered name in the spec.
    """
    if isinstance(spec, (str, Path)):
        spec = load_spec(spec, overrides)
    elif not isinstance(spec, BacktestSpec):
        spec = spec_from_dict(spec, strategy_cls=strategy)
    return Result(run_spec(spec, prices, data_dir, events, strategy, signals, intraday_dir))


def sweep(
    backtest: str | Path,
    grid: Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
    data_dir: str | Path | None = None,
    reports_dir: str | Path = "reports",
    workers: int | None = None,
    backend: str | None = None,
    resume: bool = True,
    report: bool = True,
    tearsheets: bool = False,
) -> SweepResult:
    """Sweep a backtest file's parameters, as ``newsbt sweep`` does; returns the ranked table and heatmaps.

    ``grid`` gives values to try, e.g. ``{"drop_pct": [5, 7, 10], "hold_days": "1:10:3"}``, over the
    file's ``[sweep]``. ``report`` writes ``reports_dir/<name>/sweep/`` (``tearsheets``: with the best
    combination's QuantStats tearsheet); finished combinations are kept there and resumed.
    """
    from newsbt.data.sources import price_sources
    from newsbt.sweep.report import write_sweep_report
    from newsbt.sweep.result import SweepResult
    from newsbt.sweep.runner import plan_sweep, run_sweep

    planned = plan_sweep(backtest, overrides, grid_values=grid)
    prices = price_sources(data_dir).load(planned.tickers, (planned.spec.run.start, planned.spec.run.end))
    outcome = run_sweep(planned, data_dir, reports_dir, backend=backend, workers=workers, resume=resume, prices=prices)
    page = write_sweep_report(outcome, data_dir, prices=prices, tearsheets=tearsheets) if report else None
    return SweepResult(outcome, page)


def study(backtest: str | Path, overrides: Iterable[str] = (), data_dir: str | Path | None = None) -> StudyOutcome:
    """Run a backtest file's ``[study]`` event study (``.write(reports_dir)`` writes its report)."""
    from newsbt.study.runner import run_study

    return run_study(backtest, data_dir=data_dir, overrides=overrides)
