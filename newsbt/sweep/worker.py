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

import numpy as np
import pandas as pd
import pyarrow as pa

from newsbt.backtest.engine import returns_of, run_backtest
from newsbt.backtest.metrics import headline_rows, years_between
from newsbt.backtest.spec import BacktestSpec
from newsbt.core.errors import NewsbtError
from newsbt.sweep.grid import Combination
from newsbt.sweep.store import METRIC_COLUMNS, SCHEMA, list_column


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, sent once: base spec, combinations, engine, validated prices and events."""

    spec: BacktestSpec
    combinations: tuple[Combination, ...]
    engine: str  # "backtrader" (the reference) or "fast" (the compiled simulator, newsbt.backtest.fast)
    prices: dict[str, pd.DataFrame]
    events: tuple[Any, ...] = ()  # the spec's news events, handed to the strategy as ``newsbt run`` does
    signals: pd.DataFrame | None = None  # the spec's news-store signals ([run] news), likewise


@dataclass(frozen=True)
class Ran:
    """What a combination's row needs of its run, as arrays."""

    days: np.ndarray  # int32 sessions, days since 1970-01-01 (one array shared by the runs of a calendar)
    returns: np.ndarray
    trade_pnl: np.ndarray
    gross_exposure: np.ndarray
    final_value: float
    refused: int


class Evaluator:
    """Runs combinations of one sweep on prices held in memory."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.run: Callable[[BacktestSpec], Ran] = _runner(setup)

    def run_chunk(self, indices: Iterable[int]) -> pa.Table:
        """The chunk's combinations as one result part (``newsbt.sweep.store.SCHEMA``), in the order given."""
        indices = list(indices)
        outcomes: list[Ran | str] = []
        for index in indices:
            try:
                outcomes.append(self.run(self.setup.spec.with_params(**self.setup.combinations[index])))
            except Exception as exc:  # noqa: BLE001 - a failing combination is a result, not the sweep's end
                outcomes.append(f"{type(exc).__name__}: {exc}")
        return part_table(indices, [json.dumps(self.setup.combinations[i]) for i in indices], outcomes)


def part_table(indices: list[int], params: list[str], outcomes: list[Ran | str]) -> pa.Table:
    """Result rows of combinations that ran (``Ran``) or raised (the error text), as columns.

    The headline figures are computed once per calendar across its runs (``headline_rows``), and the
    returns and sessions go into arrow list columns straight from numpy, without a Python object per day.
    """
    runs = [out if isinstance(out, Ran) else None for out in outcomes]
    figures: dict[int, dict[str, Any]] = {}
    for group in _by_calendar(runs):
        same = [runs[k] for k in group]
        days = same[0].days
        stats = headline_rows(np.stack([r.returns for r in same]), years_between(int(days[-1] - days[0])),
                              [r.trade_pnl for r in same], np.stack([r.gross_exposure for r in same]))
        figures.update(zip(group, stats))
    columns: dict[str, Any] = {"combination": indices, "params": params}
    for name in METRIC_COLUMNS:
        columns[name] = [figures[k][name] if k in figures else None for k in range(len(runs))]
    columns["final_value"] = [r.final_value if r else None for r in runs]
    columns["refused_orders"] = [r.refused if r else None for r in runs]
    columns["error"] = [None if r else out for r, out in zip(runs, outcomes)]
    columns["dates"] = list_column([r.days if r else None for r in runs], np.int32, pa.date32())
    columns["returns"] = list_column([r.returns if r else None for r in runs], np.float64, pa.float64())
    return pa.table(columns, schema=SCHEMA)


def _by_calendar(runs: list[Ran | None]) -> list[list[int]]:
    """Positions of the runs, grouped by calendar (engine "fast" shares one array per calendar)."""
    groups: dict[bytes, list[int]] = {}
    for k, run in enumerate(runs):
        if run is not None:
            groups.setdefault(run.days.tobytes(), []).append(k)
    return list(groups.values())


def _sessions(dates: pd.DatetimeIndex) -> np.ndarray:
    return dates.values.astype("datetime64[D]").astype(np.int32)


def _runner(setup: WorkerSetup) -> Callable[[BacktestSpec], Ran]:
    """Spec -> what its row needs, on the engine the sweep asked for."""
    if setup.engine == "fast":
        from newsbt.backtest.fast.runner import FastRunner  # numba is imported only when asked for

        fast = FastRunner(setup.prices, setup.events, setup.signals)
        days: dict[int, np.ndarray] = {}  # one array of sessions per calendar, shared by its runs

        def run_fast(spec: BacktestSpec) -> Ran:
            run = fast.summary(spec)
            if id(run.dates) not in days:
                days[id(run.dates)] = _sessions(run.dates)
            return Ran(days[id(run.dates)], returns_of(run.equity, spec.run.cash), run.trade_pnl,
                       run.gross_exposure, float(run.equity[-1]), run.refused)

        return run_fast

    def run_reference(spec: BacktestSpec) -> Ran:
        result = run_backtest(spec, setup.prices, events=setup.events, signals=setup.signals)
        return Ran(_sessions(result.returns.index), result.returns.to_numpy(), result.trades["pnl"].to_numpy(),
                   result.gross_exposure.to_numpy(), float(result.equity.iloc[-1]), len(result.refused_orders))

    return run_reference


def serial_results(setup: WorkerSetup, chunks: list[list[int]]) -> Iterator[pa.Table]:
    """Chunks run one after the other in this process (one worker: no pool to start)."""
    evaluator = Evaluator(setup)
    for chunk in chunks:
        yield evaluator.run_chunk(chunk)


# The one per-process slot the process-pool initializer pattern needs: this worker's evaluator. The
# parent sets it just before its workers are forked, so they inherit it (see ``local_results``).
_EVALUATOR: Evaluator | None = None


def _init_worker(setup: WorkerSetup) -> None:
    global _EVALUATOR
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which cancels and keeps parts
    if _EVALUATOR is None or _EVALUATOR.setup is not setup:  # not forked from the sweep's parent (spawn)
        _EVALUATOR = Evaluator(setup)


def _run_chunk(indices: list[int]) -> pa.Table:
    assert _EVALUATOR is not None, "worker used before its initializer ran"
    return _EVALUATOR.run_chunk(indices)


def local_results(setup: WorkerSetup, chunks: list[list[int]], workers: int) -> Iterator[pa.Table]:
    """Chunks run by a process pool whose workers each receive the setup once, in completion order.

    The evaluator is built here first, and with engine "fast" it runs the first combination once (which
    loads the compiled code from numba's cache): workers forked from this process inherit both, instead
    of each aligning the prices and loading the code again, side by side on the same cores.
    """
    global _EVALUATOR
    _EVALUATOR = Evaluator(setup)
    if setup.engine == "fast":
        _EVALUATOR.run_chunk(chunks[0][:1])
    executor = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(setup,))
    try:
        finished = as_completed([executor.submit(_run_chunk, chunk) for chunk in chunks])
    finally:
        _EVALUATOR = None  # the workers are forked by now (all at once, at the first submit)
    try:
        for future in finished:  # as_completed lets go of each future once yielded; a list of them would
            yield future.result()  # keep every part in memory until the sweep ends
    except BrokenProcessPool:
        raise NewsbtError("a sweep worker process died (out of memory?); finished combinations are saved, "
                          "run the same command again to resume") from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
