"""Write a run's outputs: tearsheet.html, trades.csv, equity.csv and summary.json.

Everything is computed before the first byte is written, into a staging folder that replaces the
run's outputs in one swap (``newsbt.core.publish``): a failure, a full disk or a second run of the
same name never leaves a half-written or mixed report behind. Whatever else the folder holds (the
name's ``sweep/`` and ``study/``) is kept.
"""

from __future__ import annotations

import functools
import gc
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbt.reports.backend import headless

headless()  # never open a window, whatever backend the user's environment prefers (notebooks keep theirs)

import pandas as pd  # noqa: E402

from newsbt.core.atomic import atomic_write_text  # noqa: E402
from newsbt.core.publish import report_lock, staged  # noqa: E402
from newsbt.reports.figures import side_by_side  # noqa: E402
from newsbt.reports.htmlpage import page, table  # noqa: E402
from newsbt.reports.parallel import Split, Task, draw_all  # noqa: E402
from newsbt.reports.tearsheet import tearsheet_drawing, warm_tearsheet  # noqa: E402
from newsbt.backtest.metrics import headline, return_metrics  # noqa: E402

if TYPE_CHECKING:
    from newsbt.backtest.engine import RunResult

PRICE_DECIMALS = 6
RUN_OUTPUTS = frozenset({"tearsheet.html", "trades.csv", "equity.csv", "summary.json", "index.html", "charts"})


def summary(result: RunResult) -> dict[str, Any]:
    """summary.json's content: headline figures, what was run, and anything worth a second look."""
    spec = result.spec
    return {
        "name": spec.run.name,
        "strategy": spec.strategy.name,
        "parameters": result.params.model_dump(mode="json"),
        "run": spec.run.model_dump(mode="json"),
        "costs": spec.costs.model_dump(mode="json"),
        "benchmark": spec.run.benchmark_label,
        "first_session": str(result.returns.index[0].date()),
        "last_session": str(result.returns.index[-1].date()),
        "final_value": round(float(result.equity.iloc[-1]), 2),
        "metrics": headline(result.returns, result.trades, result.gross_exposure, result.benchmark_returns),
        "benchmark_metrics": return_metrics(result.benchmark_returns),
        "costs_paid": costs_paid(result),
        "open_positions_at_end": result.open_positions.astype({"entry_date": str}).to_dict("records"),
        "refused_orders": result.refused_orders.astype({"placed_date": str}).to_dict("records"),
        "tickers_without_data": list(result.idle_tickers),
        **({"intraday": intraday_facts(result)} if spec.run.intraday else {}),
    }


def intraday_facts(result: RunResult) -> dict[str, Any]:
    """Bars and sessions traded, and every suspect extended-hours print met with what was done to it."""
    flagged = result.suspect_prints.reset_index()
    return {
        "bars": result.spec.run.bars,
        "sessions": list(result.spec.run.sessions),
        "suspect_prints_policy": result.spec.run.suspect_prints,
        "suspect_prints": [
            {"ticker": r.ticker, "bar": r.timestamp.isoformat(), "session": r.nyse_session, "open": r.open,
             "high": r.high, "low": r.low, "close": r.close} for r in flagged.itertuples(index=False)],
    }


def costs_paid(result: RunResult) -> dict[str, float]:
    """Commission, slippage (fill price vs the bar's open, all fills being at the open) and borrow."""
    fills = result.fills
    slippage = ((fills["price"] - fills["bar_open"]).abs() * fills["size"].abs()).sum()
    return {
        "commission": round(float(fills["commission"].sum()), 2),
        "slippage": round(float(slippage), 2),
        "borrow": round(float(result.borrow_charges["fee"].sum()), 2),
        "cash_interest_earned": round(float(result.cash_interest), 2),
    }


def write_run(result: RunResult, out_dir: Path, tearsheet: bool = True, charts: bool = True) -> Path:
    """Publish all outputs of ``result`` in ``out_dir`` at once; returns the tearsheet's (or summary's) path.

    Only one process writes a folder at a time: a second one stops with a message naming the first.
    """
    with report_lock(out_dir), staged(out_dir, keep=lambda name: name not in RUN_OUTPUTS) as folder:
        write_run_files(result, folder, tearsheet, charts)
    return out_dir / ("tearsheet.html" if tearsheet else "summary.json")


def write_run_files(result: RunResult, out_dir: Path, tearsheet: bool = True, charts: bool = True) -> None:
    """Write the outputs of ``result`` straight into ``out_dir`` (a folder its caller publishes)."""
    drawings, files = plan_run_files(result, out_dir, tearsheet, charts)
    draw_all(drawings, warm=warm_tearsheet if tearsheet else None)
    write_texts(out_dir, files)


def plan_run_files(result: RunResult, out_dir: Path, tearsheet: bool = True,
                   charts: bool = True) -> tuple[list[Task | Split], dict[str, str]]:
    """The run's drawings (tearsheet, trade charts: tasks for :func:`draw_all`, which may run them in
    parallel) and its text files (name -> content), every figure computed; ``out_dir`` is created."""
    facts = summary(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawings: list[Task | Split] = []
    if tearsheet:
        drawings.append(tearsheet_drawing(result.returns, result.benchmark_returns, out_dir / "tearsheet.html",
                                          title=tearsheet_title(result)))
    chart_tasks = trade_chart_tasks(result, out_dir / "charts") if charts else {}
    drawings += chart_tasks.values()
    files: dict[str, str] = {
        "trades.csv": result.trades.round({c: PRICE_DECIMALS for c in result.trades.select_dtypes("number")})
                                   .to_csv(index=False, lineterminator="\n"),
        "equity.csv": result.equity.round(PRICE_DECIMALS).rename("value").to_csv(
            index_label="date", date_format="%Y-%m-%d", lineterminator="\n"),
        "summary.json": json.dumps(facts, indent=2, sort_keys=False) + "\n",
        "index.html": run_page(facts, result.trades, tearsheet, [p.relative_to(out_dir) for p in chart_tasks]),
    }
    return drawings, files


def write_texts(out_dir: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        atomic_write_text(out_dir / name, text)


def trade_chart_tasks(result: RunResult, chart_dir: Path) -> dict[Path, Task]:
    """One PNG per traded ticker (closes, entries and exits, the news events on that ticker): its path and
    the task that draws it."""
    chart_dir.mkdir(parents=True, exist_ok=True)
    tasks: dict[Path, Task] = {}
    for ticker, trades in result.trades.groupby("ticker", sort=True):
        path, title = chart_dir / f"{ticker}.png", f"{ticker}: {len(trades)} trades ({result.spec.run.name})"
        if result.spec.run.intraday:
            news = [(e.available_at, e.headline) for e in result.events if ticker in e.tickers]
            shown, news = chart_window(result.intraday_bars[ticker], trades, news)
            tasks[path] = functools.partial(_intraday_chart, shown, trades, news, path, title=title)
            continue
        news = [(e.available_at.tz_convert("America/New_York").tz_localize(None).normalize(), e.headline)
                for e in result.events if ticker in e.tickers]
        tasks[path] = functools.partial(_trade_chart, result.closes[ticker].dropna(), trades, news, path, title=title)
    return tasks


def _trade_chart(*args: Any, **kwargs: Any) -> Path:
    from newsbt.reports.charts import trade_chart  # pyplot (~0.3 s) only where a chart is drawn

    return trade_chart(*args, **kwargs)


def _intraday_chart(*args: Any, **kwargs: Any) -> Path:
    from newsbt.reports.charts import intraday_chart

    return intraday_chart(*args, **kwargs)


CHART_PAD = pd.Timedelta(hours=1)


def chart_window(bars: pd.DataFrame, trades: pd.DataFrame, news: list[tuple[pd.Timestamp, str]]
                 ) -> tuple[pd.DataFrame, list[tuple[pd.Timestamp, str]]]:
    """The bars an intraday chart shows, and its news: from an hour before the first entry (or the
    news of the day before it, if earlier; whole hours) to an hour after the last exit."""
    tz = bars.index.tz
    entries = pd.to_datetime(trades["entry_date"]).dt.tz_localize(tz)
    exits = pd.to_datetime(trades["exit_date"]).dt.tz_localize(tz)
    news = [(at.tz_convert(tz), text) for at, text in news
            if entries.min() - pd.Timedelta(days=1) <= at <= exits.max()]
    first = min([entries.min(), *(at for at, _ in news)])
    return bars.loc[first.floor("h") - CHART_PAD : exits.max() + CHART_PAD], news


def run_page(facts: dict[str, Any], trades: pd.DataFrame, has_tearsheet: bool, charts: list[Path]) -> str:
    """The run's page: strategy and benchmark figures side by side, links, the trades (sortable), charts."""
    esc = html.escape
    figures = table(["", facts["strategy"], facts["benchmark"]],
                    side_by_side(facts["metrics"], facts["benchmark_metrics"]), numeric={1, 2}, sortable=False)
    links = [("tearsheet.html", "QuantStats tearsheet")] if has_tearsheet else []
    links += [("trades.csv", "trades"), ("equity.csv", "equity curve"), ("summary.json", "summary (JSON)")]
    link_html = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in links)
    chart_html = "".join(f'<figure><a href="{esc(c.as_posix())}"><img src="{esc(c.as_posix())}" '
                         f'alt="{esc(c.stem)} trades" width="880"></a></figure>' for c in charts)
    title = f"{facts['name']}: {facts['strategy']} vs {facts['benchmark']}"
    return page(title, f"<p>{esc(facts['first_session'])} to {esc(facts['last_session'])}, final value "
                       f"{facts['final_value']:,.2f}</p>{figures}<ul>{link_html}</ul>"
                       f"<h2>Trades</h2>{_trades_table(trades)}"
                       f"<h2>Trade charts</h2>{chart_html or '<p>No closed trades.</p>'}")


def _day(value: Any) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


TRADE_COLUMNS = {  # trades.csv column -> (header, how its values read)
    "ticker": ("ticker", str), "entry_date": ("entry", _day), "entry_price": ("entry price", "{:,.2f}".format),
    "exit_date": ("exit", _day), "exit_price": ("exit price", "{:,.2f}".format), "size": ("shares", "{:,.0f}".format),
    "pnl": ("P&L", "{:+,.2f}".format), "return_pct": ("return", "{:+.2f}%".format),
    "commission": ("commission", "{:,.2f}".format), "borrow": ("borrow", "{:,.2f}".format),
}


def _trades_table(trades: pd.DataFrame) -> str:
    if trades.empty:
        return "<p>No closed trades.</p>"
    rows = [[show(row[col]) for col, (_, show) in TRADE_COLUMNS.items()] for _, row in trades.iterrows()]
    return table([header for header, _ in TRADE_COLUMNS.values()], rows, numeric={2, 4, 5, 6, 7, 8, 9})


def tearsheet_title(result: RunResult) -> str:
    spec = result.spec
    return f"{spec.run.name}: {spec.strategy.name} vs {spec.run.benchmark_label}"


def warm_reports(tearsheet: bool = True) -> None:
    """What the warm report process does before its first task (``newsbt.reports.parallel.start_workers``):
    import pyplot, and QuantStats unless no tearsheet is drawn, and draw on a canvas that only
    writes files (``newsbt.reports.filecanvas``): unlike Agg's, it does not render each figure again
    after ``pyplot.savefig``, and its SVG is written without rendering at all. Imports make no
    garbage, so the collector is off while they run; then everything imported is frozen out of its
    reach: a full collection of QuantStats' heap in each worker forked from here cost ~0.13 s of its
    first drawing."""
    gc.disable()
    try:
        import matplotlib.pyplot as plt

        if tearsheet:
            warm_tearsheet()
        plt.switch_backend("module://newsbt.reports.filecanvas")
    finally:
        gc.freeze()
        gc.enable()
