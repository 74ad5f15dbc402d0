"""What a notebook shows: a run's, a sweep's and a study's ``_repr_html_``, ``result.plot()``, and
``api.sweep``'s ranked table and heatmaps, on synthetic prices."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from newsbt import api
from newsbt.core.errors import NewsbtError
from newsbt.sweep.stats import ranked
from tests.conftest import write_price_files
from tests.sweepdata import crashy_prices
from tests.synthetic import spec_dict, two_crashes
from tests.test_study import EVENTS, synthetic_prices, synthetic_study

SWEEP_FILE = """
[run]
name = "nbsweep"
start = 2024-01-01
end = 2024-12-31
benchmark = "BMK"

[strategy]
name = "crash_dip"
tickers = ["AAA", "BBB", "CCC"]
position_pct = 30

[sweep]
drop_pct = [5, 7]
hold_days = [2, 3, 4]
engine = "fast"
"""


@pytest.fixture(scope="module")
def result() -> api.Result:
    return api.run(spec_dict(), prices=two_crashes())


def test_run_renders_figures_beside_the_benchmark_and_the_equity_chart(result):
    html = result._repr_html_()
    stats, bench = result.stats, result.benchmark_stats
    assert "<th></th><th>crash_dip</th><th>BMK</th>" in html
    assert (f'<tr><td>total return</td><td class="num">{stats["total_return"]:.2%}</td>'
            f'<td class="num">{bench["total_return"]:.2%}</td></tr>') in html
    assert f'<tr><td>trades</td><td class="num">{stats["trades"]}</td><td class="num"></td></tr>' in html
    assert html.count('<img src="data:image/png;base64,') == 1


def test_plot_draws_the_equity_and_the_benchmark_from_the_same_cash(result):
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax) is ax
        mine, bench = ax.get_lines()
        assert mine.get_label() == "crash_dip" and bench.get_label() == "BMK"
        assert np.array_equal(mine.get_ydata(), result.equity.to_numpy())
        expected = 100_000 * np.cumprod(1 + result.benchmark_returns.to_numpy())
        assert np.allclose(bench.get_ydata(), expected, rtol=0, atol=1e-9)
        assert result.plot().figure is not fig  # no axes: a figure of its own
    finally:
        plt.close("all")


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[api.SweepResult, object]:
    root = tmp_path_factory.mktemp("sweep")
    (root / "nbsweep.toml").write_text(SWEEP_FILE)
    prices = write_price_files(root / "prices", crashy_prices())
    sweep = api.sweep(root / "nbsweep.toml", grid={"hold_days": [2, 4]}, data_dir=prices,
                      reports_dir=root / "reports", workers=1)
    return sweep, root


def test_api_sweep_ranks_every_combination_and_writes_the_report(swept):
    sweep, root = swept
    assert sweep.page == root / "reports" / "nbsweep" / "sweep" / "index.html" and sweep.page.is_file()
    assert len(sweep.table) == 4 and sorted(set(sweep.table["hold_days"])) == [2, 4]  # the grid won over [sweep]
    assert sweep.table.equals(ranked(sweep.outcome.table, "sharpe"))
    assert sweep.table["rank"].tolist() == [1, 2, 3, 4]
    top = sweep.table.iloc[0]
    assert sweep.best == {"drop_pct": top["drop_pct"], "hold_days": top["hold_days"]}


def test_sweep_heatmap_and_notebook_output(swept):
    sweep, _ = swept
    figure = sweep.heatmap("drop_pct", "hold_days")
    try:
        [image] = figure.axes[0].get_images()
        assert image.get_array().shape == (2, 2)  # hold_days rows x drop_pct columns
    finally:
        plt.close(figure)
    with pytest.raises(NewsbtError, match="'position_pct' is not a swept parameter; the sweep varies drop_pct, hold_days"):
        sweep.heatmap("drop_pct", "position_pct")
    html = sweep._repr_html_()
    assert "ranked by sharpe, best drop_pct=" in html and html.count("<tr><td") == 4
    assert html.count('<img src="data:image/png;base64,') == 1


def test_study_renders_events_caar_and_its_plot(tmp_path):
    write_price_files(tmp_path / "prices", synthetic_prices())
    (tmp_path / "events.csv").write_text(EVENTS)
    html = synthetic_study(tmp_path, 'event_ids = ["weekend"]', name="nbstudy")._repr_html_()
    assert html.startswith("<div><b>nbstudy</b>") and "<th>CAAR</th>" in html and "weekend" in html
    assert html.count('<img src="data:image/png;base64,') == 1
