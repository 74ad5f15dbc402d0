"""Draw report files side by side: the tearsheet's pieces and the charts spread over every core.

A report is a handful of independent, CPU-bound files (QuantStats' tearsheet in pieces of ~0.7 s,
a trade chart ~0.07 s each, heatmaps). :func:`draw_all` runs them on a pool of forked processes, one
per core, so a report costs about its total work divided by the cores. Fork only: workers inherit
what this process imported, and where fork is unavailable or unsafe (Windows, macOS, a notebook
kernel with its inline backend and its threads), or there is one core or one task, the tasks run in
this process, in order. The files are the same either way.

A command that knows early that it will draw (``newsbt run``, ``newsbt sweep``) calls
:func:`start_workers` first. That forks one *warm* process, which imports QuantStats (~1 s of SciPy
and seaborn) while this process loads prices and backtests, on the other core; at draw time it forks
the pool itself, so every worker inherits those imports and they are paid once, not once per
worker. Tasks go to it pickled; a task that cannot be pickled (a function defined inside another),
or a working directory changed since, sends the whole report down the fork-at-draw-time path instead;
so does a warm process gone before it replies (killed, or its warm-up raised: the same warm-up then
runs here, and raises here if it must).

Each task writes its own file(s), or returns its piece of a :class:`Split`. When a task fails, the
others still finish and the first failure (in task order) is raised here, as the task raised it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from newsbt.reports.backend import in_notebook

Task = Callable[[], object]

_TASKS: Sequence[Task] = ()  # the tasks of a pool forked at draw time: its workers inherit them, by index


@dataclass(frozen=True)
class _Warm:
    """A process forked by :func:`start_workers`: it runs ``warm``, then the tasks it is sent, once."""

    pid: int
    conn: Connection
    cwd: str  # the working directory it was forked in (relative paths resolve there)

    def run(self, tasks: Sequence[Task]) -> list[Any] | None:
        """The tasks' results, in order; ``None`` if the process was gone before it replied (killed,
        or its warm-up failed): the caller then draws without it."""
        try:
            self.conn.send(tasks)
            raised, value = self.conn.recv()
        except (EOFError, OSError):
            return None
        finally:
            self.conn.close()
            os.waitpid(self.pid, 0)
        if raised:
            raise value
        return value

    def stop(self) -> None:
        self.conn.close()
        os.kill(self.pid, signal.SIGKILL)  # it was only importing: nothing of it to finish
        os.waitpid(self.pid, 0)


_warm: _Warm | None = None  # started by start_workers, used by the next draw_all


def workers_for(n_tasks: int) -> int:
    """How many processes draw ``n_tasks`` files: one per core; 1 (this process) where fork is not safe."""
    if sys.platform != "linux" or n_tasks < 2 or in_notebook():
        return 1
    return max(1, min(os.cpu_count() or 1, n_tasks))


def start_workers(warm: Callable[[], object]) -> None:
    """Fork the warm process of the next :func:`draw_all` now; it runs ``warm`` (e.g. imports) at
    once, while this process goes on. Replaces one started earlier and not used."""
    global _warm
    stop_workers()
    if workers_for(os.cpu_count() or 1) > 1:
        ours, its = multiprocessing.Pipe()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _serve(warm, its)
        its.close()
        _warm = _Warm(pid, ours, os.getcwd())


def stop_workers() -> None:
    """Let go of a warm process started by :func:`start_workers` and not used."""
    global _warm
    if _warm is not None:
        _warm.stop()
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
    global _warm
    started, _warm = _warm, None
    if started is not None and started.cwd == os.getcwd() and all(_picklable(task) for task in tasks):
        results = started.run(tasks)
        if results is not None:
            return results
    elif started is not None:
        started.stop()
    if warm is not None:
        warm()
    return _run_here(tasks)


def _run_here(tasks: Sequence[Task]) -> list[Any]:
    """The tasks on a pool forked from this process now, or in this process where that is not safe."""
    global _TASKS
    n_workers = workers_for(len(tasks))
    if n_workers == 1:
        return [task() for task in tasks]
    _TASKS = tasks
    try:
        pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork"))
        futures: list[Future[Any]] = [pool.submit(_run_task, i) for i in range(len(tasks))]
        pool.shutdown(wait=True)
        return [future.result() for future in futures]  # re-raises a task's exception here, in task order
    finally:
        _TASKS = ()


def _serve(warm: Callable[[], object], conn: Connection) -> None:
    """The warm process: ``warm``, then the one list of tasks it is sent (none once it is let go)."""
    code = 0
    try:
        warm()
        tasks = conn.recv()
        try:
            reply: tuple[bool, Any] = (False, _run_here(tasks))
        except BaseException as exc:  # noqa: BLE001 - handed back to be raised where draw_all was called
            reply = (True, exc)
        conn.send(reply)
    except BaseException:  # noqa: BLE001 - let go (EOF) or killed: nothing to report to anyone
        code = 1
    finally:
        os._exit(code)  # never the parent's exit handlers (pytest's, rich's)


def _picklable(task: Task) -> bool:
    try:
        pickle.dumps(task)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _run_task(index: int) -> Any:
    return _TASKS[index]()
