"""The QuantStats tearsheet, drawn in pieces side by side and joined into QuantStats' own page.

QuantStats' ``reports.html`` computes its metrics (~0.35 s) and then draws 14 figures one after the
other (~1.9 s), each about as slow as the next. :func:`tearsheet` splits that work: every piece
runs ``reports.html`` itself, with the same arguments, but draws only its share of the figures (figure
``i`` is piece ``i % pieces``'s) and leaves a marked, empty slot for the others; only the first
piece computes the metrics. :func:`join_pages` then fills the first piece's slots with the figures
the other pieces drew. QuantStats stays the author of every number, table, figure and line of the
page, and the page is the one ``reports.html`` writes in one go (``tests/test_tearsheet.py``
compares them byte for byte).

Two QuantStats internals are borrowed for this, both module attributes of ``quantstats.reports``:
``_plots`` (the plotting module it draws through) and ``metrics``. Where they are missing (another
QuantStats version), the first piece draws the whole page and the others draw nothing. A third,
``utils._prepare_benchmark``, is told when a benchmark is already aligned (see :func:`_aligned`).

QuantStats is only ever handed aligned return Series: given a ticker string it would download prices.
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib
import importlib.util
import io
import logging
import re
import sys
import tempfile
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsbt.reports.backend import headless

headless()  # QuantStats draws with pyplot: never a window (notebooks keep their backend)

import matplotlib  # noqa: E402
import pandas as pd  # noqa: E402

from newsbt.core.atomic import atomic_write_text  # noqa: E402
from newsbt.reports.parallel import Split, draw_all  # noqa: E402

SVG_TEXT = {"svg.fonttype": "none"}  # figures' text as text, not glyph outlines: a quarter faster, 25 % smaller
PIECES = 3  # balances 14 figures over 2 cores beside a run's charts; more pieces repeat QuantStats' set-up
_SLOT = re.compile(r"<!--newsbt:figure (\d+)-->(.*?)<!--/newsbt:figure \1-->", re.S)


def tearsheet_drawing(returns: pd.Series, benchmark: pd.Series, path: Path, title: str, pieces: int = PIECES) -> Split:
    """QuantStats' full report of ``returns`` against ``benchmark`` (aligned Series) for ``path``, as
    ``pieces`` tasks for :func:`newsbt.reports.parallel.draw_all`."""
    if not returns.index.equals(benchmark.index):
        raise ValueError("strategy and benchmark returns must share one index")
    draw = functools.partial(draw_piece, returns, benchmark, title, path.name)
    return Split(tuple(functools.partial(draw, index, pieces) for index in range(pieces)),
                 functools.partial(write_joined, path, title))


def write_tearsheet(returns: pd.Series, benchmark: pd.Series, path: Path, title: str) -> None:
    """Write the tearsheet to ``path`` now (its pieces in parallel where forking is safe)."""
    draw_all([tearsheet_drawing(returns, benchmark, path, title)], warm=warm_tearsheet)


def warm_tearsheet() -> Any:
    """Import QuantStats (~1 s with SciPy and seaborn; only where a tearsheet is written), once.

    QuantStats imports yfinance (~0.15 s) only to download prices, which newsbt never asks of it: the
    module it gets is imported on first use instead."""
    if "yfinance" not in sys.modules and importlib.util.find_spec("yfinance") is not None:
        sys.modules["yfinance"] = _ImportedOnFirstUse("yfinance")
    import quantstats

    return quantstats


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in for a module until one of its attributes is read; then imports it and is its proxy.

    (``importlib.util.LazyLoader`` would not do: before Python 3.12 an ``import`` statement of a lazy
    module reads its ``__spec__``, and that read imports it.)"""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def draw_piece(returns: pd.Series, benchmark: pd.Series, title: str, filename: str, index: int,
               pieces: int) -> str | None:
    """QuantStats' page with figures ``index``, ``index + pieces``, ... drawn, every figure in a marked
    slot (see the module docstring); ``None`` for a piece that has nothing to draw."""
    quantstats = warm_tearsheet()
    reports = quantstats.reports
    if not all(hasattr(reports, name) for name in ("_get_plots", "_plots", "metrics")):
        if index > 0:  # another QuantStats: the first piece draws the whole page
            return None
        pieces = 1
    with _quiet_reporting(), _drawing_share(reports, index, pieces), _aligned(getattr(quantstats, "utils", None)), \
            tempfile.TemporaryDirectory() as tmp, matplotlib.rc_context(SVG_TEXT):
        out = Path(tmp) / "tearsheet.html"
        reports.html(returns, benchmark=benchmark, output=str(out), title=title, match_dates=False,
                     benchmark_title=str(benchmark.name), download_filename=filename)
        return out.read_text(encoding="utf-8")


def join_pages(pages: list[str | None]) -> str:
    """The first piece's page, each empty slot filled with the figure another piece drew there."""
    drawn = {int(number): figure for page in pages[1:] if page for number, figure in _SLOT.findall(page) if figure}
    return _SLOT.sub(lambda slot: drawn.get(int(slot[1]), slot[2]), pages[0] or "")


def write_joined(path: Path, title: str, pages: list[str | None]) -> None:
    """Join the pieces and write the page, self-contained: our title, no favicon fetched from the web,
    and no ``onload`` call to a ``save()`` function the page never defines (a console error)."""
    page = join_pages(pages)
    page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", page, count=1, flags=re.S)
    page = re.sub(r'<link rel="shortcut icon"[^>]*>', '<link rel="icon" href="data:,">', page, count=1)
    atomic_write_text(path, page.replace('<body onload="save()">', "<body>", 1))


class _Share:
    """Stands in for QuantStats' plotting module: draws this piece's figures into marked slots and
    leaves the others' slots empty. Every figure call names its file as ``savefig={"fname": ...}``."""

    def __init__(self, plots: Any, index: int, pieces: int) -> None:
        self._plots, self._index, self._pieces, self._calls = plots, index, pieces, 0

    def __getattr__(self, name: str) -> Any:
        plot = getattr(self._plots, name)

        def figure(*args: Any, savefig: dict[str, Any], **kwargs: Any) -> Any:
            number, self._calls = self._calls, self._calls + 1
            out: io.BytesIO = savefig["fname"]
            out.write(f"<!--newsbt:figure {number}-->".encode())
            result = plot(*args, savefig=savefig, **kwargs) if number % self._pieces == self._index else None
            out.write(f"<!--/newsbt:figure {number}-->".encode())
            return result

        return figure


def _drawing_share(reports: Any, index: int, pieces: int) -> contextlib.AbstractContextManager[None]:
    """Within the block, ``reports.html`` draws only piece ``index``'s figures, and computes the
    metrics only in the first piece (the others' tables are dropped by the join)."""
    if pieces == 1:
        return contextlib.nullcontext()
    no_metrics = {} if index == 0 else {"metrics": lambda *args, **kwargs: pd.DataFrame()}
    return _replaced(reports, _plots=_Share(reports._get_plots(), index, pieces), **no_metrics)


def _aligned(utils: Any) -> contextlib.AbstractContextManager[None]:
    """Within the block, QuantStats skips re-aligning a benchmark that already shares the returns' index.

    Its ``utils._prepare_benchmark(benchmark, period)`` compares ``set(period)`` with
    ``set(benchmark.index)`` (15 times a page, ~0.4 s of Timestamps) and aligns only when they differ.
    Ours never differ; when the two indexes are equal, ``period`` is passed as ``"max"``, which skips
    that comparison and nothing else, so every figure is the same.
    """
    prepare = getattr(utils, "_prepare_benchmark", None)
    if prepare is None:
        return contextlib.nullcontext()

    def prepare_aligned(benchmark: Any = None, period: Any = "max", *args: Any, **kwargs: Any) -> Any:
        if isinstance(period, pd.DatetimeIndex) and isinstance(benchmark, pd.Series) and benchmark.index.equals(period):
            period = "max"
        return prepare(benchmark, period, *args, **kwargs)

    return _replaced(utils, _prepare_benchmark=prepare_aligned)


@contextlib.contextmanager
def _replaced(module: Any, **attributes: Any) -> Iterator[None]:
    """Within the block, ``module``'s ``attributes`` are the given ones; their own are put back after."""
    saved = {name: getattr(module, name) for name in attributes}
    for name, value in attributes.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


@contextlib.contextmanager
def _quiet_reporting() -> Iterator[None]:
    """Silence QuantStats' and matplotlib's own noise (fonts, deprecations) during report building.

    Only warnings raised from inside those libraries are ignored, and only for the duration of the
    call; warnings from user code keep their normal treatment.
    """
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for module in ("quantstats", "matplotlib", "seaborn", "pandas", "numpy"):
                warnings.filterwarnings("ignore", module=module)
            yield
    finally:
        font_logger.setLevel(level)
