"""Sweep figures: ranking, heatmap averages, PBO's block count, walk-forward, and the written report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from newsbt.core.errors import NewsbtError
from newsbt.backtest.spec import spec_from_dict
from newsbt.sweep.runner import run_sweep, sweep_from_section
from newsbt.sweep.report import write_sweep_report
from newsbt.sweep.stats import best_combination, heatmap_grid, heatmap_pairs, pbo_blocks, ranked
from newsbt.sweep.walkforward import walk_forward
from tests.conftest import write_price_files
from tests.sweepdata import crashy_prices, spec_dict


def results(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"combination": range(n), **columns, "error": [None] * n})


def test_ranking_puts_the_best_first_and_missing_values_last():
    table = results(a=[1, 2, 3, 4], sharpe=[0.5, np.nan, 1.5, 0.5], max_drawdown=[-0.3, -0.1, -0.2, -0.4])
    table.loc[1, "error"] = "ValueError: boom"
    assert ranked(table, "sharpe")["combination"].tolist() == [2, 0, 3, 1]
    assert ranked(table, "sharpe")["rank"].tolist() == [1, 2, 3, pd.NA]
    assert ranked(table, "max_drawdown")["combination"].tolist() == [1, 2, 0, 3]  # shallowest drawdown first
    assert best_combination(table, "sharpe") == 2
    assert best_combination(results(sharpe=[np.nan]), "sharpe") is None


def test_heatmap_averages_over_the_other_parameters():
    table = results(x=[1, 1, 2, 2, 1, 2], y=[None, 5.0, None, 5.0, None, 5.0], z=[0, 0, 0, 0, 1, 1],
                    sharpe=[1.0, 2.0, 3.0, 4.0, 3.0, 6.0])
    grid = heatmap_grid(table, "sharpe", "x", "y")
    assert grid.index.tolist() == ["None", "5"] and grid.columns.tolist() == ["1", "2"]
    assert grid.to_numpy().tolist() == [[2.0, 3.0], [2.0, 5.0]]
    assert heatmap_pairs(table, ("x", "y", "z")) == [("x", "y"), ("x", "z"), ("y", "z")]
    assert heatmap_pairs(table.assign(y=1.0, z=1), ("x", "y", "z")) == [("x", "")]


@pytest.mark.parametrize("sessions, requested, blocks", [(1632, 16, 16), (60, 16, 12), (12, 16, 2), (9, 16, None)])
def test_pbo_blocks_come_down_for_short_runs(sessions, requested, blocks):
    assert pbo_blocks(sessions, requested) == blocks


def test_walk_forward_trades_the_in_sample_winner_out_of_sample():
    dates = pd.bdate_range("2024-01-01", periods=40)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.001, (40, 2))
    first_half = np.where(np.arange(40) < 20, 0.01, -0.01)
    matrix = pd.DataFrame(noise + np.c_[first_half, -first_half], index=dates, columns=[3, 8])
    found = walk_forward(matrix, "total_return", train_days=10, test_days=10)
    assert found.windows["combination"].tolist() == [3, 3, 8]
    expected = pd.concat([matrix[3].iloc[10:20], matrix[3].iloc[20:30], matrix[8].iloc[30:40]])
    pd.testing.assert_series_equal(found.returns, expected.rename("walk_forward"))
    with pytest.raises(NewsbtError, match="more than train_days"):
        walk_forward(matrix, "sharpe", train_days=40, test_days=5)


def test_report_holds_ranked_table_heatmaps_statistics_and_best_run(tmp_path):
    data_dir = write_price_files(tmp_path / "prices", crashy_prices())
    section = {"drop_pct": [5, 7, 9], "hold_days": [1, 3], "stop_loss_pct": [None, 4], "engine": "fast",
               "walk_forward": {"train_days": 30, "test_days": 10}}
    sweep = sweep_from_section(spec_from_dict(spec_dict()), section)
    outcome = run_sweep(sweep, data_dir, tmp_path / "reports", workers=1)
    page = write_sweep_report(outcome, data_dir, tearsheets=False)
    out = outcome.directory
    assert {"results.csv", "returns.parquet", "summary.json", "index.html", "best", "walk_forward",
            "heatmap_drop_pct_hold_days.png", "heatmap_hold_days_stop_loss_pct.png"} <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["combinations"] == 12 and summary["best"]["combination"] == best_combination(outcome.table, "sharpe")
    assert summary["dsr"]["available"] and 0 <= summary["dsr"]["dsr"] <= 1 and summary["dsr"]["trials"] == 12
    assert summary["pbo"]["available"] and summary["pbo"]["blocks"] == 16 and 0 <= summary["pbo"]["pbo"] <= 1
    assert summary["walk_forward"]["windows"] == 5
    ranked_csv = pd.read_csv(out / "results.csv")
    assert ranked_csv["sharpe"].is_monotonic_decreasing and len(ranked_csv) == 12
    returns = pd.read_parquet(out / "returns.parquet")
    assert returns.shape == (80, 12)
    assert (out / "best" / "trades.csv").is_file() and "mean sharpe over stop_loss_pct" in page.read_text()


def test_walk_forward_tearsheet_compares_with_the_benchmark_on_the_out_of_sample_sessions(tmp_path, monkeypatch):
    import newsbt.sweep.report as report
    from newsbt.reports.parallel import Split

    prices = crashy_prices()
    data_dir = write_price_files(tmp_path / "prices", prices)
    section = {"drop_pct": [5, 9], "engine": "fast", "walk_forward": {"train_days": 30, "test_days": 10}}
    outcome = run_sweep(sweep_from_section(spec_from_dict(spec_dict()), section), data_dir, tmp_path / "reports",
                        workers=1)
    drawn = {}

    def tearsheet_drawing(returns, benchmark, path, title):
        drawn[path.parent.name] = (returns, benchmark)
        return Split((), lambda parts: None)

    monkeypatch.setattr(report, "tearsheet_drawing", tearsheet_drawing)
    monkeypatch.setattr(report, "plan_run_files", lambda *args, **kwargs: ([], {}))
    write_sweep_report(outcome, data_dir, tearsheets=True)
    returns, benchmark = drawn["walk_forward"]
    closes = prices["BMK"]["adj_close"]
    expected = (closes / closes.shift(1) - 1).to_numpy()[30:]  # close to close, the first one too
    assert returns.index.equals(outcome.returns.index[30:]) and len(returns) == 50
    assert benchmark.index.equals(returns.index) and benchmark.name == "BMK"
    np.testing.assert_allclose(benchmark.to_numpy(), expected, rtol=0, atol=1e-15)
