"""The tearsheet drawn in pieces (newsbt.reports.tearsheet) is the page QuantStats writes in one go."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from newsbt.reports import tearsheet
from newsbt.reports.tearsheet import join_pages, write_joined, write_tearsheet


@pytest.fixture
def returns() -> tuple[pd.Series, pd.Series]:
    days = pd.bdate_range("2022-01-03", periods=400)
    rng = np.random.default_rng(7)
    strategy = pd.Series(rng.normal(0.0006, 0.02, len(days)), index=days, name="Strategy")
    return strategy, pd.Series(rng.normal(0.0004, 0.012, len(days)), index=days, name="QQQ")


@pytest.fixture
def reproducible_svg(monkeypatch):
    """matplotlib's SVG ids and dates are random and dated unless told otherwise."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.setitem(matplotlib.rcParams, "svg.hashsalt", "newsbt")


def in_one_go(strategy: pd.Series, benchmark: pd.Series, path: Path, title: str) -> str:
    """QuantStats' own page, written by one ``reports.html`` call (figures' text as text), then made
    self-contained as ours is."""
    import quantstats as qs

    raw = path.with_suffix(".raw.html")
    with tearsheet._quiet_reporting(), matplotlib.rc_context(tearsheet.SVG_TEXT):
        qs.reports.html(strategy, benchmark=benchmark, output=str(raw), title=title, match_dates=False,
                        benchmark_title=str(benchmark.name), download_filename=path.name)
    write_joined(path, title, [raw.read_text(encoding="utf-8")])
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("forked", [True, False])
def test_the_pieces_join_into_the_page_quantstats_writes_in_one_go(tmp_path, returns, reproducible_svg, forked,
                                                                    monkeypatch):
    strategy, benchmark = returns
    expected = in_one_go(strategy, benchmark, tmp_path / "one.html", "demo: crash_dip vs QQQ")
    if not forked:
        monkeypatch.setattr(sys, "platform", "darwin")  # every piece in this process, one after the other
    write_tearsheet(strategy, benchmark, tmp_path / "tearsheet.html", "demo: crash_dip vs QQQ")
    page = (tmp_path / "tearsheet.html").read_text(encoding="utf-8")
    assert page == expected
    assert page.count("<svg") == 14 and "newsbt:figure" not in page
    assert "<title>demo: crash_dip vs QQQ</title>" in page and 'onload="save()"' not in page


def test_each_piece_draws_its_own_share_of_the_figures(returns):
    strategy, benchmark = returns
    pages = [tearsheet.draw_piece(strategy, benchmark, "t", "t.html", index, 3) for index in range(3)]
    for index, page in enumerate(pages):
        slots = tearsheet._SLOT.findall(page)
        assert [int(n) for n, _ in slots] == list(range(14))
        assert [int(n) for n, figure in slots if figure] == list(range(index, 14, 3))
    assert "Sharpe" in pages[0] and "Sharpe" not in pages[1]  # the metrics are computed by the first piece only


def test_join_fills_each_empty_slot_with_the_figure_drawn_elsewhere():
    def slot(n: int, figure: str = "") -> str:
        return f"<!--newsbt:figure {n}-->{figure}<!--/newsbt:figure {n}-->"

    first = f"<p>metrics</p>{slot(0, '<svg>a</svg>')}<p>x</p>{slot(1)}{slot(2)}{slot(3, '<svg>d</svg>')}"
    second = f"<p></p>{slot(0)}{slot(1, '<svg>b</svg>')}{slot(2)}{slot(3)}"
    third = f"{slot(0)}{slot(1)}{slot(2, '<svg>c</svg>')}{slot(3)}"
    assert join_pages([first, second, third]) == "<p>metrics</p><svg>a</svg><p>x</p><svg>b</svg><svg>c</svg><svg>d</svg>"
    assert join_pages(["<p>whole page</p>", None, None]) == "<p>whole page</p>"


def test_without_the_quantstats_internals_it_borrows_the_first_piece_draws_the_whole_page(
        tmp_path, returns, reproducible_svg, monkeypatch):
    import quantstats as qs

    strategy, benchmark = returns
    expected = in_one_go(strategy, benchmark, tmp_path / "one.html", "t")
    other_version = SimpleNamespace(reports=SimpleNamespace(html=qs.reports.html))  # html, none of the internals
    monkeypatch.setattr(tearsheet, "warm_tearsheet", lambda: other_version)
    pages = [tearsheet.draw_piece(strategy, benchmark, "t", "t.html", index, 3) for index in range(3)]
    assert pages[1:] == [None, None]
    write_joined(tmp_path / "joined.html", "t", pages)
    assert (tmp_path / "joined.html").read_text(encoding="utf-8") == expected


def test_returns_and_benchmark_must_share_an_index(tmp_path, returns):
    strategy, benchmark = returns
    with pytest.raises(ValueError, match="share one index"):
        tearsheet.tearsheet_drawing(strategy, benchmark.iloc[1:], tmp_path / "t.html", "t")


def test_the_file_canvas_saves_the_svg_canvas_file_and_draws_only_to_save(reproducible_svg, monkeypatch):
    import io

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    drawn: list[str] = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: drawn.append(backend) or original(self, renderer))
    files, previous = {}, plt.get_backend()
    try:
        for backend in ("svg", "module://newsbt.reports.filecanvas"):
            plt.switch_backend(backend)
            plt.plot([1.0, 3.0, 2.0])
            plt.title("demo")
            files[backend] = io.BytesIO()
            plt.savefig(files[backend], format="svg")  # as QuantStats saves each figure: pyplot then redraws it
            plt.close("all")
    finally:
        plt.switch_backend(previous)
    assert drawn.count("svg") == 2 and drawn.count("module://newsbt.reports.filecanvas") == 1
    svg, ours = (f.getvalue() for f in files.values())
    assert ours == svg and b"demo" in svg


def test_a_module_imported_on_first_use_runs_only_when_read(tmp_path, monkeypatch):
    (tmp_path / "slow_module.py").write_text("import builtins\nbuiltins.SLOW_RAN = True\nvalue = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_module", raising=False)
    import builtins

    monkeypatch.setattr(builtins, "SLOW_RAN", False, raising=False)
    monkeypatch.setitem(sys.modules, "slow_module", tearsheet._ImportedOnFirstUse("slow_module"))
    import slow_module  # what QuantStats does with yfinance

    assert builtins.SLOW_RAN is False
    assert slow_module.value == 42 and builtins.SLOW_RAN is True
    assert sys.modules["slow_module"] is not slow_module and sys.modules["slow_module"].value == 42
