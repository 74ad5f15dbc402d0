"""Sweeps: planning from a file, resume after a kill, errors kept, local == dask, 1 combination == newsbt run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from newsbt import api
from newsbt.core.errors import NewsbtError
from newsbt.backtest.spec import spec_from_dict
from newsbt.sweep.runner import SweepInterrupted, plan_sweep, run_sweep, sweep_from_section
from newsbt.sweep.report import write_sweep_report
from newsbt.sweep.store import METRIC_COLUMNS, SweepStore
from tests.conftest import write_price_files
from tests.sweep_strategies import FAILING_DROP, register_test_strategies, slow_sweep
from tests.sweepdata import crashy_prices, read_saved, saved_combinations, spec_dict

ROOT = Path(__file__).resolve().parents[1]
FILE = """
[run]
name = "planned"
start = 2024-01-01
end = 2024-12-31
benchmark = "BMK"

[strategy]
name = "crash_dip"
tickers = ["AAA", "BBB", "CCC"]

[sweep]
drop_pct = [5, 7, 10]
hold_days = "1:10:3"
constraints = ["hold_days < drop_pct"]
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_price_files(tmp_path_factory.mktemp("prices"), crashy_prices())


def sweep_of(section: dict, **strategy):
    return sweep_from_section(spec_from_dict(spec_dict(**strategy)), section)


def write_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "planned.toml"
    path.write_text(text)
    return path


def test_plan_reads_the_sweep_section_overrides_and_grid_options(tmp_path):
    path = write_file(tmp_path, FILE)
    sweep = plan_sweep(path, overrides=["sweep.samples=4", "strategy.position_pct=25"],
                       grid_args=["drop_pct=6,8"])
    assert sweep.names == ("drop_pct", "hold_days")
    assert sweep.plan.grid_size == 8 and sweep.plan.n_after_constraints == 5  # hold_days 1, 4 (, 7) < 6 (, 8)
    assert len(sweep.combinations) == 4 and sweep.spec.strategy.params["position_pct"] == 25
    assert sweep.describe().startswith("4 combinations of crash_dip over drop_pct x hold_days")
    assert sweep.tickers == ("AAA", "BBB", "CCC", "BMK")
    assert plan_sweep(path, overrides=["sweep.samples=4", "strategy.position_pct=25"],
                      grid_args=["drop_pct=6,8"]).spec_hash == sweep.spec_hash
    assert plan_sweep(path).spec_hash != sweep.spec_hash


def test_a_combination_is_run_on_the_sweeps_engine_with_its_parameters(tmp_path):
    for engine in ("fast", "backtrader"):
        sweep = plan_sweep(write_file(tmp_path, FILE), overrides=[f'sweep.engine="{engine}"'])
        assert sweep.spec.run.engine == "backtrader"  # the file's [run] says nothing: the default
        for index, combo in enumerate(sweep.combinations):
            spec = sweep.spec_for(index)
            assert spec.run.engine == engine  # the best run's rerun costs what its combination did
            assert spec.strategy.params == {**sweep.spec.strategy.params, **combo}
            assert spec.run.model_dump(exclude={"engine"}) == sweep.spec.run.model_dump(exclude={"engine"})


@pytest.mark.parametrize("line, message", [
    ("hold_day = [1, 2]", "unknown key 'hold_day' in \\[sweep\\]; did you mean 'hold_days'"),
    ("sample = 3", "unknown key 'sample' in \\[sweep\\]; did you mean 'samples'"),
    ("position_pct = [20, 150]", "position_pct.*less than or equal to 100.*combination"),
    ('engine = "turbo"', "engine"),
])
def test_plan_refuses_mistakes_before_running(tmp_path, line, message):
    path = write_file(tmp_path, FILE.replace('hold_days = "1:10:3"', f'hold_days = "1:10:3"\n{line}'))
    with pytest.raises(NewsbtError, match=message):
        plan_sweep(path)


def test_grid_options_are_checked_like_the_file(tmp_path):
    with pytest.raises(NewsbtError, match="unknown parameter 'hold_day'; did you mean 'hold_days'"):
        plan_sweep(write_file(tmp_path, FILE), grid_args=["hold_day=1,2"])


def test_one_combination_equals_newsbt_run(tmp_path, data_dir):
    for engine in ("backtrader", "fast"):
        sweep = sweep_of({"drop_pct": [6], "take_profit_pct": [8], "engine": engine}, position_pct=45)
        outcome = run_sweep(sweep, data_dir, tmp_path / engine, workers=1)
        write_sweep_report(outcome, data_dir, tearsheets=False)
        reference = api.run(spec_dict(position_pct=45, drop_pct=6, take_profit_pct=8), data_dir=data_dir)
        row = outcome.table.iloc[0]
        assert {k: None if pd.isna(row[k]) else row[k] for k in METRIC_COLUMNS} == \
            {k: reference.stats[k] for k in METRIC_COLUMNS}
        assert row["final_value"] == reference.equity.iloc[-1]
        reference.write(tmp_path / f"reference_{engine}", tearsheet=False)
        best = outcome.directory / "best"
        for name in ("trades.csv", "equity.csv"):
            assert (best / name).read_text() == (tmp_path / f"reference_{engine}" / name).read_text()
        pd.testing.assert_series_equal(outcome.returns[0], reference.returns, check_names=False, check_freq=False)


def test_an_error_in_one_combination_is_recorded_and_the_sweep_finishes(tmp_path, data_dir):
    register_test_strategies()
    raw = spec_dict()
    raw["strategy"]["name"] = "test_flaky_dip"
    sweep = sweep_from_section(spec_from_dict(raw), {"drop_pct": [7, FAILING_DROP, 11], "hold_days": [2, 4]})
    outcome = run_sweep(sweep, data_dir, tmp_path, workers=2)
    failed = outcome.table[outcome.table["error"].notna()]
    assert list(failed["drop_pct"]) == [FAILING_DROP, FAILING_DROP] and outcome.failed == 2
    assert failed["error"].str.contains("ValueError: drop_pct 9 is <b>cursed</b>").all()
    assert outcome.table["sharpe"].notna().sum() == 4 and list(outcome.returns.columns) == [0, 1, 4, 5]
    page = write_sweep_report(outcome, data_dir, tearsheets=False).read_text()
    assert "&lt;b&gt;cursed&lt;/b&gt;" in page and "<b>cursed</b>" not in page
    ranked = pd.read_csv(outcome.directory / "results.csv")
    assert ranked["error"].notna().tolist() == [False] * 4 + [True] * 2


def test_local_and_dask_give_identical_results(tmp_path, data_dir):
    distributed = pytest.importorskip("distributed", reason="the dask backend needs the newsbt[dask] extra")
    sweep = sweep_of({"drop_pct": [5, 7, 9], "hold_days": [1, 3], "position_pct": [30, 80]})
    local = run_sweep(sweep, data_dir, tmp_path / "local", backend="local", workers=2)
    dask = run_sweep(sweep, data_dir, tmp_path / "dask", backend="dask", workers=2, scheduler="local")
    assert len(local.table) == 12 and local.failed == 0
    pd.testing.assert_frame_equal(dask.table, local.table)
    pd.testing.assert_frame_equal(dask.returns, local.returns)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_sweep(sweep, data_dir, tmp_path / "remote", backend="dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(remote.table, local.table)


def test_dask_runs_the_compiled_engine_with_results_identical_to_the_local_pool(tmp_path, data_dir):
    pytest.importorskip("distributed", reason="the dask backend needs the newsbt[dask] extra")
    section = {"drop_pct": [5, 7, 9], "hold_days": [1, 3], "position_pct": [30, 80]}
    fast = sweep_of({**section, "engine": "fast"})
    local = run_sweep(fast, data_dir, tmp_path / "local", backend="local", workers=2)
    dask = run_sweep(fast, data_dir, tmp_path / "dask", backend="dask", workers=2, scheduler="local")
    reference = run_sweep(sweep_of(section), data_dir, tmp_path / "reference", workers=1)
    assert len(local.table) == 12 and local.failed == 0
    pd.testing.assert_frame_equal(dask.table, local.table)
    pd.testing.assert_frame_equal(dask.returns, local.returns)
    pd.testing.assert_frame_equal(local.table, reference.table)  # and both equal backtrader's


def test_a_missing_dask_is_a_clear_error(tmp_path, data_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the newsbt[dask] extra were not installed
    monkeypatch.delitem(sys.modules, "newsbt.sweep.daskbackend", raising=False)
    with pytest.raises(NewsbtError, match=r"needs dask and distributed.*pip install 'newsbt\[dask\]'"):
        run_sweep(sweep_of({"drop_pct": [5, 7]}), data_dir, tmp_path, backend="dask")
    with pytest.raises(NewsbtError, match="unknown backend 'spark'"):
        run_sweep(sweep_of({"drop_pct": [5, 7]}), data_dir, tmp_path, backend="spark")


def test_resume_after_a_kill_gives_every_row_exactly_once(tmp_path, data_dir):
    reports = tmp_path / "reports"
    script = ("import sys, tests.sweep_strategies as s; from newsbt.sweep.runner import run_sweep; "
              "run_sweep(s.slow_sweep(0.15), sys.argv[1], sys.argv[2], workers=2)")
    child = subprocess.Popen([sys.executable, "-c", script, str(data_dir), str(reports)], cwd=ROOT,
                             start_new_session=True)
    store = SweepStore(reports / "sweeptest" / "sweep")
    try:
        deadline = time.monotonic() + 60
        while len(store.parts()) < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the sweep and its workers, mid-run
        child.wait()
    saved = saved_combinations(store)
    assert 2 <= len(saved) < 24, "the kill should land mid-sweep"
    resumed = run_sweep(slow_sweep(0.15), data_dir, reports, workers=2)
    assert (resumed.resumed, resumed.ran) == (len(saved), 24 - len(saved))
    assert resumed.table["combination"].tolist() == list(range(24)) and resumed.failed == 0
    clean = run_sweep(slow_sweep(0.0), data_dir, tmp_path / "clean", workers=2)
    pd.testing.assert_frame_equal(resumed.table, clean.table)


def test_ctrl_c_in_a_terminal_stops_cleanly(tmp_path, data_dir):
    reports = tmp_path / "reports"
    script = ("import sys, tests.sweep_strategies as s; from newsbt.sweep.runner import run_sweep\n"
              "from newsbt.core.errors import NewsbtError\n"
              "try:\n    run_sweep(s.slow_sweep(0.1), sys.argv[1], sys.argv[2], workers=2)\n"
              "except NewsbtError as exc:\n    sys.exit(f'error: {exc}')")
    child = subprocess.Popen([sys.executable, "-c", script, str(data_dir), str(reports)], cwd=ROOT,
                             start_new_session=True, stderr=subprocess.PIPE, text=True)
    store = SweepStore(reports / "sweeptest" / "sweep")
    deadline = time.monotonic() + 60
    while not store.parts() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 1 and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr  # workers ignore the signal; the parent stops them and says so
    assert 1 <= len(saved_combinations(store)) < 24


def test_ctrl_c_keeps_finished_work_and_says_how_to_resume(tmp_path, data_dir):
    sweep = sweep_of({"drop_pct": [5, 6, 7, 8], "hold_days": "1:6:1"})

    def interrupt(progress):
        if progress.done == 5:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted, match="run the same command again to resume"):
        run_sweep(sweep, data_dir, tmp_path, workers=2, progress=interrupt)
    seen = []
    outcome = run_sweep(sweep, data_dir, tmp_path, workers=2, progress=seen.append)
    assert outcome.resumed >= 5 and outcome.resumed + outcome.ran == 24 == len(outcome.table)
    assert seen[0].done == seen[0].resumed == outcome.resumed and seen[-1].done == 24


def test_a_different_sweep_starts_afresh_and_resume_can_be_turned_off(tmp_path, data_dir):
    first = run_sweep(sweep_of({"drop_pct": [5, 7]}), data_dir, tmp_path, workers=1)
    again = run_sweep(sweep_of({"drop_pct": [5, 7]}), data_dir, tmp_path, workers=1)
    assert (first.ran, again.ran, again.resumed) == (2, 0, 2)
    other = run_sweep(sweep_of({"drop_pct": [5, 7]}, hold_days=4), data_dir, tmp_path, workers=1)
    assert (other.ran, other.discarded) == (2, 2)
    fresh = run_sweep(sweep_of({"drop_pct": [5, 7]}, hold_days=4), data_dir, tmp_path, workers=1, resume=False)
    assert (fresh.ran, fresh.resumed, fresh.discarded) == (2, 0, 2)
    pd.testing.assert_frame_equal(fresh.table, other.table)


@pytest.mark.realdata
def test_example_sweep_file_runs_on_real_prices(real_data_dir, tmp_path):
    sweep = plan_sweep(ROOT / "backtests" / "ai_crash_dip_sweep.toml")
    assert len(sweep.combinations) >= 48 and sweep.settings.engine == "fast"
    outcome = run_sweep(sweep, real_data_dir, tmp_path, workers=2)
    assert outcome.failed == 0 and outcome.returns.shape == (1632, len(sweep.combinations))
    reference = api.run(sweep.spec_for(5), data_dir=real_data_dir)
    assert outcome.table.loc[5, "final_value"] == reference.equity.iloc[-1]


def test_settings_errors_name_their_line_or_their_set(tmp_path):
    path = write_file(tmp_path, FILE.replace('hold_days = "1:10:3"', 'hold_days = "1:10:3"\nwalk_forward = {train = 5}'))
    with pytest.raises(NewsbtError) as error:
        plan_sweep(path)
    assert str(error.value) == f"{path}:15: unknown key 'train' in [sweep.walk_forward]; did you mean 'train_days'?"
    with pytest.raises(NewsbtError) as error:
        plan_sweep(write_file(tmp_path, FILE), overrides=["sweep.samples=0"])
    assert str(error.value).startswith(f"{path}: --set sweep.samples: [sweep] samples: Input should be greater")
    with pytest.raises(NewsbtError, match="samples: expected a number or text, not the boolean true"):
        plan_sweep(write_file(tmp_path, FILE), overrides=["sweep.samples=true"])


@pytest.mark.parametrize("same_sessions", [True, False])
def test_the_returns_matrix_is_read_back_by_combination_with_missing_sessions_as_zero(tmp_path, same_sessions):
    import datetime as dt

    store = SweepStore(tmp_path)
    store.prepare("hash", {"spec_hash": "hash", "combinations": 4}, resume=False)
    days = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    base = {name: 0.0 for name in METRIC_COLUMNS} | {"trades": 0, "final_value": 1.0, "refused_orders": 0}

    def row(i: int, returns: list[float], dates: list, error: str | None = None) -> dict:
        return {**base, "combination": i, "params": "{}", "error": error, "dates": dates, "returns": returns}

    other = days if same_sessions else days[1:]
    store.write_part([row(3, [0.3, 0.4, 0.5][-len(other):], other), row(2, [], [], "ValueError: no")])
    store.write_part([row(0, [0.0, 0.1, 0.2], days), row(1, [1.0, 1.1, 1.2], days)])
    table, matrix = read_saved(store)
    assert table["combination"].tolist() == [0, 1, 2, 3]
    expected = pd.DataFrame({0: [0.0, 0.1, 0.2], 1: [1.0, 1.1, 1.2],
                             3: [0.3, 0.4, 0.5] if same_sessions else [0.0, 0.4, 0.5]},
                            index=pd.DatetimeIndex(days, name="date"))
    expected.columns.name = "combination"
    pd.testing.assert_frame_equal(matrix, expected, check_index_type=False, check_freq=False)
