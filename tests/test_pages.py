"""Numbers as a person reads them (terminal, pages, notebooks) and the shared sortable table."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from newsbt import api
from newsbt.reports.figures import fmt, label, side_by_side
from newsbt.reports.htmlpage import SORT_SCRIPT, page, table
from tests.synthetic import spec_dict, two_crashes


@pytest.mark.parametrize(("name", "value", "text"), [
    ("total_return", 0.056123, "5.61%"), ("max_drawdown", -0.2670449, "-26.70%"), ("alpha", np.float64(-0.0607), "-6.07%"),
    ("win_rate", 0.5, "50.00%"), ("sharpe", 0.13491, "0.13"), ("beta", np.float64(1.2049), "1.20"),
    ("trades", 1234, "1,234"), ("trades", np.int64(149), "149"), ("drop_pct", 7.5, "7.5"), ("hold_days", 10, "10"),
    ("final", 123456.789, "1.235e+05"), ("sharpe", None, "n/a"), ("cagr", float("nan"), "n/a"), ("x", pd.NA, "n/a"),
    ("entry_date", pd.Timestamp("2024-01-02"), "2024-01-02"), ("day", dt.date(2025, 1, 27), "2025-01-27"),
    ("mode", "fade", "fade"), ("flag", True, "True"),
])
def test_figures_read_as_a_person_reads_them(name, value, text):
    assert fmt(name, value) == text


def test_side_by_side_pairs_strategy_and_benchmark_figures():
    rows = side_by_side({"total_return": 0.1, "sharpe": 1.234, "trades": 3}, {"total_return": 0.2, "sharpe": None})
    assert rows == [("total return", "10.00%", "20.00%"), ("Sharpe", "1.23", "n/a"), ("trades", "3", "")]
    assert label("drop_pct") == "drop_pct" and label("cagr") == "CAGR"


def test_table_escapes_aligns_numbers_and_page_adds_the_sorter_only_for_sortable_tables():
    html = table(["<b>", "value"], [["<script>x</script>", "1.00%"]], numeric={1})
    assert html == ('<table class="sortable"><thead><tr><th>&lt;b&gt;</th><th>value</th></tr></thead><tbody>\n'
                    '<tr><td>&lt;script&gt;x&lt;/script&gt;</td><td class="num">1.00%</td></tr>\n</tbody></table>')
    assert f"<script>{SORT_SCRIPT}</script>" in page("t", html)
    assert "<script" not in page("t", table(["a"], [["1"]], sortable=False))


def test_run_page_shows_figures_side_by_side_and_every_trade(tmp_path):
    result = api.run(spec_dict(), prices=two_crashes())
    result.write(tmp_path, tearsheet=False)
    html = (tmp_path / "index.html").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    mine, bench = summary["metrics"], summary["benchmark_metrics"]
    assert (f'<tr><td>total return</td><td class="num">{mine["total_return"]:.2%}</td>'
            f'<td class="num">{bench["total_return"]:.2%}</td></tr>') in html
    assert f'<tr><td>Sharpe</td><td class="num">{mine["sharpe"]:.2f}</td>' in html
    assert ('<tr><td>AAA</td><td>2024-01-04</td><td class="num">91.00</td><td>2024-01-08</td><td class="num">95.00</td>'
            '<td class="num">222</td><td class="num">+888.00</td><td class="num">+4.40%</td>') in html
    assert html.count("<tr><td>") == len(mine) + 2  # a row per figure, a row per trade
