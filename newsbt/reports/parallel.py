"""Draw report files side by side: a tearsheet renders on one core while the charts draw on the other.

A report is a handful of independent, CPU-bound files (QuantStats' tearsheet ~2 s, a trade chart
~0.15 s each, heatmaps). :func:`draw_all` runs them on a pool of forked processes, one per core, so a
report costs about its slowest file instead of the sum. Fork only: workers inherit what this process
imported, and where fork is unavailable or unsafe (Windows, macOS, a notebook kernel with its inline
backend and its threads), or there is one core or one task, the tasks run in this process, in order. The files are the same either way.

A command that knows early that it will draw (``newsbt run``, ``newsbt sweep``) calls
:func:`start_workers` first: the workers then import QuantStats (~1 s) while this process loads prices
and backtests. Tasks go to those workers pickled; a task that cannot be pickled (a function defined
inside another), or a working directory changed since, sends the whole report down the
fork-at-draw-time path instead.

Each task writes its own file(s) and returns nothing. When a task fails, the others still finish and
the first failure (in task order) is raised here, as the task raised it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from newsbt.reports.backend import in_notebook

Task = Callable[[], object]

_TASKS: Sequence[Task] = ()  # the tasks of a pool forked at draw time: its workers inherit them, by index
_warm: ProcessPoolExecutor | None = None  # workers started by start_workers, used by the next draw_all
_warm_cwd = ""  # the working directory they were started in (relative paths resolve there)


def workers_for(n_tasks: int) -> int:
    """How many processes draw ``n_tasks`` files: one per core; 1 (this process) where fork is not safe."""
    if sys.platform != "linux" or n_tasks < 2 or in_notebook():
        return 1
    return max(1, min(os.cpu_count() or 1, n_tasks))


def start_workers(warm: Callable[[], object]) -> None:
    """Fork the workers of the next :func:`draw_all` now; each runs ``warm`` (a module-level function,
    e.g. imports) at once, while this process goes on. Replaces workers started earlier and not used."""
    global _warm, _warm_cwd
    stop_workers()
    n_workers = workers_for(os.cpu_count() or 1)
    if n_workers > 1:
        _warm_cwd = os.getcwd()
        _warm = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork"), initializer=warm)
        _warm.submit(int)  # a fork pool starts all its workers on its first task


def stop_workers() -> None:
    """Let go of workers started by :func:`start_workers` and not used (they exit when idle)."""
    global _warm
    if _warm is not None:
        _warm.shutdown(wait=False, cancel_futures=True)
        _warm = None


@dataclass(frozen=True)
class Split:
    """One file drawn in pieces: each piece (a task) returns its part, on whichever worker takes it;
    ``join`` then receives the parts, in order, in this process and writes the file."""

    pieces: tuple[Task, ...]
    join: Callable[[list[Any]], None]


def draw_all(tasks: Sequence[Task | Split], warm: Callable[[], object] | None = None) -> None:
    """Run every task (and every piece of a :class:`Split`) once, in parallel where possible (see the
    module docstring); then join each split's pieces here.

    ``warm`` runs first in this process when workers are forked now, so that each inherits its work.
    """
    flat = [piece for task in tasks for piece in (task.pieces if isinstance(task, Split) else (task,))]
    results = iter(_run_all(flat, warm))
    for task in tasks:
        if isinstance(task, Split):
            task.join([next(results) for _ in task.pieces])
        else:
            next(results)


def _run_all(tasks: list[Task], warm: Callable[[], object] | None) -> list[Any]:
    """Each task's result, in task order."""
    global _warm, _TASKS
    pool, _warm = _warm, None
    if pool is not None and _warm_cwd == os.getcwd() and all(_picklable(task) for task in tasks):
        return _wait(pool, [pool.submit(task) for task in tasks])
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if warm is not None:
        warm()
    n_workers = workers_for(len(tasks))
    if n_workers == 1:
        return [task() for task in tasks]
    _TASKS = tasks
    try:
        pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork"))
        return _wait(pool, [pool.submit(_run_task, i) for i in range(len(tasks))])
    finally:
        _TASKS = ()


def _wait(pool: ProcessPoolExecutor, futures: list[Future[Any]]) -> list[Any]:
    pool.shutdown(wait=True)
    return [future.result() for future in futures]  # re-raises a task's exception here, in task order


def _picklable(task: Task) -> bool:
    try:
        pickle.dumps(task)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _run_task(index: int) -> Any:
    return _TASKS[index]()
