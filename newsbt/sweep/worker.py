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

from newsbt.backtest.engine import RunResult, run_backtest
from newsbt.core.errors import NewsbtError
from newsbt.sweep.grid import Combination
from newsbt.backtest.metrics import headline
from newsbt.backtest.registry import fast_engine
from newsbt.backtest.spec import BacktestSpec
from newsbt.sweep.store import METRIC_COLUMNS

Row = dict[str, Any]


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, sent once: base spec, combinations, engine, validated prices and events."""

    spec: BacktestSpec
    combinations: tuple[Combination, ...]
    engine: str  # "backtrader" (the reference) or "fast" (see newsbt.backtest.registry.fast_engine)
    prices: dict[str, pd.DataFrame]
    events: tuple[Any, ...] = ()  # the spec's news events, handed to the strategy as ``newsbt run`` does
    signals: pd.DataFrame | None = None  # the spec's news-store signals ([run] news), likewise


class Evaluator:
    """Runs combinations of one sweep on prices held in memory."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.run: Callable[[BacktestSpec], RunResult] = _runner(setup)

    def run_chunk(self, indices: Iterable[int]) -> list[Row]:
        return [self.row(i) for i in indices]

    def row(self, index: int) -> Row:
        combo = self.setup.combinations[index]
        base = {"combination": index, "params": json.dumps(combo)}
        try:
            result = self.run(self.setup.spec.with_params(**combo))
        except Exception as exc:  # noqa: BLE001 - a failing combination is a result, not the sweep's end
            return {**base, "error": f"{type(exc).__name__}: {exc}", "dates": [], "returns": []}
        return {**base, **result_row(result), "error": None}


def result_row(result: RunResult) -> Row:
    """Headline figures (as ``newsbt run`` reports them), final value, refusals and the daily returns."""
    stats = headline(result.returns, result.trades, result.gross_exposure)
    return {
        **{name: stats[name] for name in METRIC_COLUMNS},
        "final_value": float(result.equity.iloc[-1]),
        "refused_orders": len(result.refused_orders),
        "dates": [d.date() for d in result.returns.index],
        "returns": result.returns.to_numpy().tolist(),
    }


def _runner(setup: WorkerSetup) -> Callable[[BacktestSpec], RunResult]:
    if setup.engine == "fast":
        return fast_engine(setup.spec.strategy.name)(setup.prices)
    return lambda spec: run_backtest(spec, setup.prices, events=setup.events, signals=setup.signals)


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
