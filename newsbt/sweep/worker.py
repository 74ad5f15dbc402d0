"""The worker side of a sweep: prices held once per worker, combinations run in chunks, one row each.

A worker gets the base spec, the combinations and the validated prices once (a process-pool
initializer here, a worker plugin with dask) and then only chunks of combination indices. A
combination that raises becomes a row with its error text; the others go on.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

import numpy as np

from newsbt.backtest.engine import run_backtest
from newsbt.backtest.metrics import headline_of
from newsbt.backtest.spec import BacktestSpec
from newsbt.core.errors import NewsbtError
from newsbt.sweep.grid import Combination
from newsbt.sweep.store import METRIC_COLUMNS

Row = dict[str, Any]


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, sent once: base spec, combinations, engine, validated prices and events."""

    spec: BacktestSpec
    combinations: tuple[Combination, ...]
    engine: str  # "backtrader" (the reference) or "fast" (the compiled simulator, newsbt.backtest.fast)
    prices: dict[str, pd.DataFrame]
    events: tuple[Any, ...] = ()  # the spec's news events, handed to the strategy as ``newsbt run`` does
    signals: pd.DataFrame | None = None  # the spec's news-store signals ([run] news), likewise


class Evaluator:
    """Runs combinations of one sweep on prices held in memory."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.run: Callable[[BacktestSpec], Row] = _runner(setup)

    def run_chunk(self, indices: Iterable[int]) -> list[Row]:
        return [self.row(i) for i in indices]

    def row(self, index: int) -> Row:
        combo = self.setup.combinations[index]
        base = {"combination": index, "params": json.dumps(combo)}
        try:
            figures = self.run(self.setup.spec.with_params(**combo))
        except Exception as exc:  # noqa: BLE001 - a failing combination is a result, not the sweep's end
            return {**base, "error": f"{type(exc).__name__}: {exc}", "dates": [], "returns": []}
        return {**base, **figures, "error": None}


def result_row(returns: np.ndarray, dates: list, trade_pnl: np.ndarray, gross_exposure: np.ndarray,
               final_value: float, refused: int) -> Row:
    """Headline figures (as ``newsbt run`` reports them), final value, refusals and the daily returns."""
    stats = headline_of(returns, (dates[-1] - dates[0]).days / 365.25, trade_pnl, gross_exposure)
    return {
        **{name: stats[name] for name in METRIC_COLUMNS},
        "final_value": final_value,
        "refused_orders": refused,
        "dates": dates,
        "returns": returns.tolist(),
    }


def _runner(setup: WorkerSetup) -> Callable[[BacktestSpec], Row]:
    """Spec -> row figures, on the engine the sweep asked for."""
    if setup.engine == "fast":
        from newsbt.backtest.fast.runner import FastRunner  # numba is imported only when asked for

        fast = FastRunner(setup.prices, setup.events, setup.signals)
        dates: dict[int, list] = {}  # one list of session dates per calendar, shared by its rows

        def run_fast(spec: BacktestSpec) -> Row:
            run = fast.summary(spec)
            equity = run.equity
            returns = np.empty_like(equity)  # as daily_returns computes them
            returns[0] = equity[0] / spec.run.cash - 1.0
            returns[1:] = equity[1:] / equity[:-1] - 1
            if id(run.dates) not in dates:
                dates[id(run.dates)] = list(run.dates.date)
            days = dates[id(run.dates)]
            return result_row(returns, days, run.trade_pnl, run.gross_exposure, float(equity[-1]), run.refused)

        return run_fast

    def run_reference(spec: BacktestSpec) -> Row:
        result = run_backtest(spec, setup.prices, events=setup.events, signals=setup.signals)
        return result_row(result.returns.to_numpy(), list(result.returns.index.date), result.trades["pnl"].to_numpy(),
                          result.gross_exposure.to_numpy(), float(result.equity.iloc[-1]), len(result.refused_orders))

    return run_reference


def serial_results(setup: WorkerSetup, chunks: list[list[int]]) -> Iterator[list[Row]]:
    """Chunks run one after the other in this process (one worker: no pool to start)."""
    evaluator = Evaluator(setup)
    for chunk in chunks:
        yield evaluator.run_chunk(chunk)


# The one per-process slot the process-pool initializer pattern needs: this worker's evaluator.
_EVALUATOR: Evaluator | None = None


def _init_worker(setup: WorkerSetup) -> None:
    global _EVALUATOR
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which cancels and keeps parts
    _EVALUATOR = Evaluator(setup)


def _run_chunk(indices: list[int]) -> list[Row]:
    assert _EVALUATOR is not None, "worker used before its initializer ran"
    return _EVALUATOR.run_chunk(indices)


def local_results(setup: WorkerSetup, chunks: list[list[int]], workers: int) -> Iterator[list[Row]]:
    """Chunks run by a process pool whose workers each receive the setup once, in completion order."""
    executor = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(setup,))
    futures = [executor.submit(_run_chunk, chunk) for chunk in chunks]
    try:
        for future in as_completed(futures):
            yield future.result()
    except BrokenProcessPool:
        raise NewsbtError("a sweep worker process died (out of memory?); finished combinations are saved, "
                          "run the same command again to resume") from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
