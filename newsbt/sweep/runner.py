"""Parameter sweeps: a ``[sweep]`` section (plus ``--grid`` options) -> a plan -> one result row per combination.

A backtest file gains a section::

    [sweep]
    drop_pct = [5, 7, 10]          # a list, a "start:stop:step" range, or one value (newsbt.sweep.grid)
    hold_days = "1:10:3"
    constraints = ["take_profit_pct > stop_loss_pct"]
    samples = 20                   # optional: a seeded random sample of the grid (seed = 1)
    metric = "sharpe"              # ranks the results; also total_return, cagr, sortino, max_drawdown, win_rate
    engine = "backtrader"          # or "fast": the compiled simulator (built-ins), fill for fill the same
    backend = "local"              # or "dask" (scheduler = "tcp://host:8786", or "local" for a LocalCluster)
    walk_forward = {train_days = 504, test_days = 126}   # optional

Every other key names a strategy parameter. ``plan_sweep`` validates all of it and every combination
before anything runs; ``run_sweep`` runs what is not done yet, writing each finished chunk to
``reports/<name>/sweep/results/`` (see ``newsbt.sweep.store``), so an interrupted sweep resumes where
it stopped. ``newsbt.sweep.report`` turns the outcome into the ranked table, heatmaps and statistics.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
import pyarrow as pa
from pydantic import Field, ValidationError

from newsbt.sweep import grid
from newsbt.backtest.inputs import load_events_for, load_prices_for, load_signals_for
from newsbt.backtest.engine import required_tickers
from newsbt.core.errors import NewsbtError, located
from newsbt.backtest.registry import get_strategy, has_fast_engine, validate_params
from newsbt.backtest.spec import BacktestSpec, read_backtest_file, spec_of
from newsbt.core.validation import StrictModel, describe, error_at, first_error, line_of, suggest
from newsbt.core.publish import environment_errors, report_lock
from newsbt.sweep.store import TABLE_COLUMNS, Collected, Quarantined, SweepStore
from newsbt.sweep.worker import WorkerSetup, local_results, serial_results

Metric = Literal["sharpe", "sortino", "total_return", "cagr", "max_drawdown", "win_rate"]
METRICS: tuple[str, ...] = get_args(Metric)
RETURN_METRICS = METRICS[:-1]  # the ones computed from daily returns alone (walk-forward ranks by these)
CHUNK_CAP = {"backtrader": 2, "fast": 500}  # combinations per task: a chunk is the most a kill can lose
FAST_PER_WORKER = 2_000  # engine "fast" runs ~2,000 combinations a second: fewer do not pay for a process


class WalkForwardSettings(StrictModel):
    train_days: int = Field(ge=2, description="sessions in each in-sample window")
    test_days: int = Field(ge=1, description="sessions in each out-of-sample window that follows it")


class SweepSettings(StrictModel):
    """The non-parameter keys of ``[sweep]``."""

    constraints: tuple[str, ...] = ()
    samples: int | None = Field(None, ge=1)
    seed: int = Field(1, ge=0)
    metric: Metric = "sharpe"
    engine: Literal["backtrader", "fast"] = "backtrader"
    backend: Literal["local", "dask"] = "local"
    workers: int | None = Field(None, ge=1)
    scheduler: str | None = None
    pbo_blocks: int = Field(16, ge=2, description="S of PBO's CSCV (even); lowered when sessions are few")
    walk_forward: WalkForwardSettings | None = None


SETTING_KEYS = tuple(SweepSettings.model_fields)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the base spec, its settings, the combinations to run (in order) and their hash."""

    spec: BacktestSpec
    settings: SweepSettings
    plan: grid.SweepPlan
    names: tuple[str, ...]  # the swept parameters, in grid order
    tickers: tuple[str, ...]  # every ticker any combination needs, the benchmark included
    spec_hash: str

    @property
    def combinations(self) -> tuple[grid.Combination, ...]:
        return self.plan.combinations

    def spec_for(self, index: int) -> BacktestSpec:
        """The backtest spec of combination ``index``: the base spec with its parameters, run on the sweep's
        engine (the best run's rerun then costs what one combination did; both engines fill alike)."""
        spec = self.spec.with_params(**self.combinations[index])
        return spec.model_copy(update={"run": spec.run.model_copy(update={"engine": self.settings.engine})})

    def describe(self) -> str:
        plan = self.plan
        steps = [f"grid {plan.grid_size:,}"]
        if plan.constraints:
            steps.append(f"{plan.n_after_constraints:,} after constraints")
        if plan.samples is not None and plan.n_sampled < plan.n_after_constraints:
            steps.append(f"{plan.n_sampled:,} sampled (seed {plan.seed})")
        return (f"{len(self.combinations):,} combinations of {self.spec.strategy.name} over "
                f"{' x '.join(self.names)} ({', '.join(steps)})")


@dataclass(frozen=True)
class SweepProgress:
    """Handed to the progress callback after each finished combination (and once at the start)."""

    done: int  # combinations finished, those resumed from an earlier run included
    total: int
    resumed: int  # finished before this run started
    failed: int  # combinations of this run that raised


@dataclass(frozen=True)
class SweepOutcome:
    """Every combination's result row (by combination index) and the daily returns of those that ran."""

    sweep: Sweep
    directory: Path  # reports/<name>/sweep
    table: pd.DataFrame
    returns: pd.DataFrame  # sessions x combination index
    ran: int
    resumed: int
    failed: int
    discarded: int  # saved results of a different sweep (or not resumed) that were removed first
    seconds: float
    quarantined: tuple[Quarantined, ...] = ()  # damaged parts moved aside; their combinations ran again


class SweepInterrupted(NewsbtError):
    """Ctrl-C during a sweep: finished combinations are kept, and the same command resumes."""


def plan_sweep(path: str | Path, overrides: Iterable[str] = (), grid_args: Iterable[str] = (),
               grid_values: Mapping[str, Any] | None = None) -> Sweep:
    """Read a backtest file's ``[sweep]`` (after ``--set`` overrides) and plan it; ``--grid`` options, then
    ``grid_values`` (the Python API's ``{"drop_pct": [5, 7]}``), win over the file's values."""
    file = read_backtest_file(path, overrides)
    section = file.raw.get("sweep", {})
    if not isinstance(section, Mapping):
        raise error_at(file.path, file.text, file.overridden, None, "sweep",
                       "[sweep] must be a section of parameter values, e.g. [sweep] drop_pct = [5, 7, 10]")
    values = {**grid.parse_grid_options(grid_args), **(grid_values or {})}
    return sweep_from_section(spec_of(file), dict(section), values, source=file.path,
                              text=file.text, overridden=file.overridden)


def sweep_from_section(
    spec: BacktestSpec, section: Mapping[str, Any], grid_values: Mapping[str, Any] | None = None,
    source: object = "<sweep>", text: str = "", overridden: frozenset = frozenset(),
) -> Sweep:
    """Validate a ``[sweep]`` mapping (and ``--grid`` values) against ``spec``'s strategy and plan it."""
    known = list(get_strategy(spec.strategy.name).Params.model_fields)
    for key in section:
        if key not in SETTING_KEYS and key not in known:
            raise error_at(source, text, overridden, "sweep", key,
                           f"unknown key {key!r} in [sweep]{suggest(key, [*SETTING_KEYS, *known])}")
    settings = _settings({k: v for k, v in section.items() if k in SETTING_KEYS}, source, text, overridden)
    values = {**{k: v for k, v in section.items() if k not in SETTING_KEYS}, **(grid_values or {})}
    if not values:
        raise located(source, None, "nothing to sweep: give parameter values in [sweep] or with --grid name=values")
    try:
        _check_choices(spec, settings, values)
        plan = grid.plan_sweep(values, constraints=settings.constraints, samples=settings.samples,
                               seed=settings.seed, known=known, base=spec.strategy.params)
        tickers = _validate_combinations(spec, plan.combinations)
    except NewsbtError as exc:  # the grid's and the strategy's own words, placed at the file's [sweep]
        raise located(source, line_of(text, "sweep", None), str(exc)) from None
    digest = grid.spec_hash(spec.strategy.name, spec.model_dump(mode="json"), plan.combinations,
                            {"engine": settings.engine})
    return Sweep(spec, settings, plan, tuple(values), tickers, digest)


def _settings(raw: Mapping[str, Any], source: object, text: str, overridden: frozenset) -> SweepSettings:
    try:
        return SweepSettings.model_validate(dict(raw))
    except ValidationError as exc:
        err = first_error(exc)
        loc = [str(p) for p in err["loc"]]
        top = loc[0] if loc else None
        nested = top == "walk_forward" and len(loc) > 1  # a key inside walk_forward = {...}
        if nested:
            name, key, model = "sweep.walk_forward", loc[1], WalkForwardSettings
        else:
            name, key, model = "sweep", top, SweepSettings
        message = describe(err, name, key, list(model.model_fields))
        raise error_at(source, text, overridden, "sweep", top, message) from None


def _check_choices(spec: BacktestSpec, settings: SweepSettings, names: Iterable[str]) -> None:
    if settings.engine == "fast" and spec.run.intraday:
        raise NewsbtError(f'[sweep] engine = "fast" handles daily bars only, not bars = "{spec.run.bars}"; '
                          'use engine = "backtrader"')
    if settings.engine == "fast" and not has_fast_engine(spec.strategy.name):
        raise NewsbtError(f'[sweep] engine = "fast": strategy {spec.strategy.name!r} has no fast form; '
                          'use engine = "backtrader"')
    if settings.walk_forward and settings.metric not in RETURN_METRICS:
        raise NewsbtError(f"[sweep] walk_forward ranks windows by a return metric ({', '.join(RETURN_METRICS)}), "
                          f"not {settings.metric!r}")
    clash = set(names) & set(TABLE_COLUMNS)
    if clash:
        raise NewsbtError(f"parameter {sorted(clash)[0]!r} has the name of a result column; it cannot be swept")
    if settings.pbo_blocks % 2:
        raise NewsbtError(f"[sweep] pbo_blocks must be even, got {settings.pbo_blocks}")


def _validate_combinations(spec: BacktestSpec, combinations: Iterable[grid.Combination]) -> tuple[str, ...]:
    """Refuse any combination the strategy would refuse; return the tickers all combinations need."""
    tickers: dict[str, None] = {}
    for combo in combinations:
        params = {**spec.strategy.params, **combo}
        try:
            validate_params(spec.strategy.name, params, source="[sweep]")
        except NewsbtError as exc:
            raise NewsbtError(f"{exc} (combination {json.dumps(combo)})") from None
        tickers.update(dict.fromkeys(required_tickers(spec.with_params(**combo))))
    return tuple(tickers)


def run_sweep(
    sweep: Sweep,
    data_dir: str | Path | None = None,
    reports_dir: str | Path = "reports",
    backend: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    progress: Callable[[SweepProgress], None] | None = None,
    prices: Mapping[str, pd.DataFrame] | None = None,
) -> SweepOutcome:
    """Run the combinations not already saved; ``backend``/``workers``/``scheduler`` default to ``[sweep]``'s.

    Prices (and the spec's news events and news signals) are loaded and validated once here, before any saved result
    is touched, then handed to each worker once. Ctrl-C cancels what is pending, keeps every
    finished part and raises ``SweepInterrupted`` saying how to resume. The sweep holds its name's
    report lock throughout (``newsbt.core.publish``): a second sweep, run or study of the same name
    stops at once instead of writing into the same folder.
    """
    started = time.perf_counter()
    backend = backend or sweep.settings.backend
    if backend not in ("local", "dask"):
        raise NewsbtError(f"unknown backend {backend!r}; expected 'local' or 'dask'")
    if prices is None:
        prices = load_prices_for(sweep.spec, data_dir, tickers=sweep.tickers)
    setup = WorkerSetup(sweep.spec, sweep.combinations, sweep.settings.engine, dict(prices),
                        tuple(load_events_for(sweep.spec, data_dir)), load_signals_for(sweep.spec))
    store = SweepStore(Path(reports_dir) / sweep.spec.run.name / "sweep")
    resume_note = f"finished combinations are saved in {store.results_dir}; run the same command again to resume"
    with report_lock(store.directory.parent), environment_errors(store.directory, note=resume_note):
        state = store.prepare(sweep.spec_hash, _manifest(sweep), resume=resume)
        todo = [i for i in range(len(sweep.combinations)) if i not in state.done]
        counter = _Counter(len(sweep.combinations), len(state.done), progress)
        collected = Collected(len(sweep.combinations))
        for part in state.saved:
            collected.add(part)
        if todo:
            stream = _results(setup, todo, backend, workers or sweep.settings.workers,
                              scheduler or sweep.settings.scheduler, sweep.spec_hash)
            _consume(stream, store, counter, collected)
        table, returns = collected.outcome(store.results_dir)
    return SweepOutcome(sweep, store.directory, table, returns, len(todo), len(state.done),
                        counter.failed, state.discarded, time.perf_counter() - started, state.quarantined)


@dataclass
class _Counter:
    """Counts finished combinations for the progress callback."""

    total: int
    resumed: int
    callback: Callable[[SweepProgress], None] | None
    done: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self.done = self.resumed
        self._report()

    def add(self, part: pa.Table) -> None:
        for error in part["error"].to_pylist():
            self.done += 1
            self.failed += error is not None
            self._report()

    def _report(self) -> None:
        if self.callback is not None:
            self.callback(SweepProgress(self.done, self.total, self.resumed, self.failed))


def _consume(stream: Iterator[pa.Table], store: SweepStore, counter: _Counter, collected: Collected) -> None:
    """Save each finished part as it arrives, and collect it (the outcome is built from what was saved)."""
    try:
        with closing(stream):
            for part in stream:
                store.write_part(part)
                collected.add(part)
                counter.add(part)
    except KeyboardInterrupt:
        raise SweepInterrupted(
            f"interrupted: {counter.done} of {counter.total} combinations are saved in {store.results_dir}; "
            "run the same command again to resume"
        ) from None


def _results(setup: WorkerSetup, todo: list[int], backend: str, workers: int | None, scheduler: str | None,
             key: str) -> Iterator[pa.Table]:
    """Finished chunks of result rows, in completion order, from the chosen backend. With engine "fast"
    and no worker count given, a process per ``FAST_PER_WORKER`` pending combinations at most."""
    if backend == "dask":
        try:
            from newsbt.sweep.daskbackend import dask_results
        except ImportError as exc:
            raise NewsbtError(f"backend 'dask' needs dask and distributed ({exc.name} is missing); "
                              "install them with: pip install 'newsbt[dask]'") from None
        n_workers = workers or 2
        return dask_results(setup, _chunks(todo, n_workers, setup.engine), n_workers, scheduler, key)
    n_workers = min(workers or os.cpu_count() or 1, len(todo))
    if setup.engine == "fast" and not workers:
        n_workers = min(n_workers, math.ceil(len(todo) / FAST_PER_WORKER))
    if n_workers == 1:
        return serial_results(setup, _chunks(todo, 1, setup.engine))
    return local_results(setup, _chunks(todo, n_workers, setup.engine), n_workers)


def _chunks(todo: list[int], workers: int, engine: str) -> list[list[int]]:
    """Split the pending indices into chunks: about four per worker (for progress; engine "fast" takes one,
    as its chunks take well under a second and each one is a parquet part), at most ``CHUNK_CAP`` each."""
    per_worker = 1 if engine == "fast" else 4
    size = max(1, min(CHUNK_CAP[engine], math.ceil(len(todo) / (workers * per_worker))))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def _manifest(sweep: Sweep) -> dict[str, Any]:
    return {
        "spec_hash": sweep.spec_hash,
        "name": sweep.spec.run.name,
        "strategy": sweep.spec.strategy.name,
        "parameters": list(sweep.names),
        "combinations": len(sweep.combinations),
        "engine": sweep.settings.engine,
    }
