"""Write a sweep's report into ``reports/<name>/sweep/``.

| file | what it holds |
|---|---|
| ``index.html`` | the page: overfitting statistics, heatmaps, the top combinations, links |
| ``results.csv`` | every combination ranked by the sweep's metric (errors last, with their text) |
| ``returns.parquet`` | daily returns, sessions x combination (the input of DSR, PBO and walk-forward) |
| ``summary.json`` | counts, the best combination and its figures, DSR, PBO, walk-forward figures |
| ``heatmap_<x>_<y>.png`` | the metric over two swept parameters, averaged over the others |
| ``best/`` | the best combination rerun as ``newsbt run`` would: tearsheet, trades, equity, summary |
| ``walk_forward/`` | stitched out-of-sample returns' tearsheet and the windows (when configured) |

The report is written into a staging folder and swapped in whole under the name's lock
(``newsbt.core.publish``); the saved combinations (``results/``, ``manifest.json``) are carried over.
"""

from __future__ import annotations

import functools
import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbt.reports.backend import headless

headless()  # never open a window

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from newsbt.backtest.engine import blended_returns  # noqa: E402
from newsbt.backtest.inputs import load_prices_for, run_spec  # noqa: E402
from newsbt.core.atomic import atomic_write_text, temporary_path  # noqa: E402
from newsbt.core.errors import NewsbtError  # noqa: E402
from newsbt.core.publish import report_lock, staged  # noqa: E402
from newsbt.reports.figures import fmt, label  # noqa: E402
from newsbt.reports.htmlpage import page, table  # noqa: E402
from newsbt.backtest.metrics import return_metrics  # noqa: E402
from newsbt.reports.result import Result  # noqa: E402
from newsbt.reports.parallel import Split, Task, draw_all  # noqa: E402
from newsbt.reports.run import plan_run_files, write_texts  # noqa: E402
from newsbt.reports.tearsheet import tearsheet_drawing, warm_tearsheet  # noqa: E402
from newsbt.sweep.runner import SweepOutcome  # noqa: E402
from newsbt.sweep.store import STORE_ENTRIES  # noqa: E402
from newsbt.sweep.stats import best_combination, heatmap_grid, heatmap_pairs, overfitting, ranked  # noqa: E402
from newsbt.sweep.walkforward import walk_forward  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_ROWS = 20


def write_sweep_report(
    outcome: SweepOutcome,
    data_dir: str | Path | None = None,
    prices: Mapping[str, pd.DataFrame] | None = None,
    tearsheets: bool = True,
) -> Path:
    """Publish every output of the sweep (see the module docstring); returns the path of ``index.html``."""
    sweep = outcome.sweep
    best = best_combination(outcome.table, sweep.settings.metric)
    prices = prices if prices is not None else load_prices_for(sweep.spec, data_dir, tickers=sweep.tickers)
    best_result = Result(run_spec(sweep.spec_for(best), prices, data_dir)) if best is not None else None
    with report_lock(outcome.directory.parent), \
            staged(outcome.directory, keep=lambda name: name in STORE_ENTRIES) as folder:
        _write_report(outcome, best, best_result, prices, folder, tearsheets)
    return outcome.directory / "index.html"


def _write_report(outcome: SweepOutcome, best: int | None, best_result: Result | None,
                  prices: Mapping[str, pd.DataFrame], out: Path, tearsheets: bool) -> None:
    sweep, metric = outcome.sweep, outcome.sweep.settings.metric
    table = ranked(outcome.table, metric)
    drawings: list[Task | Split] = []  # the tearsheets and charts, drawn side by side once every figure is known
    best_files: dict[str, str] = {}
    if best_result is not None:
        drawings, best_files = plan_run_files(best_result.run, out / "best", tearsheet=tearsheets)
    facts = {
        **_counts(outcome), "metric": metric,
        "best": _best_facts(table, best, sweep.names),
        **overfitting(outcome.returns, best, sweep.settings.pbo_blocks),
        "walk_forward": _walk_forward(outcome, prices, tearsheets, out / "walk_forward", drawings),
    }
    pairs = heatmap_pairs(outcome.table, sweep.names)
    maps = [_heatmap_caption(metric, pair, sweep.names) for pair in pairs]
    drawings += [functools.partial(_write_heatmap, outcome.table, metric, pair, sweep.names, out) for pair in pairs]
    draw_all(drawings, warm=warm_tearsheet if tearsheets else None)
    write_texts(out / "best", best_files)
    atomic_write_text(out / "results.csv", table.to_csv(index=False, lineterminator="\n"))
    with temporary_path(out / "returns.parquet") as tmp:
        outcome.returns.rename(columns=str).to_parquet(tmp)
    atomic_write_text(out / "summary.json", json.dumps(_jsonable(facts), indent=2) + "\n")
    atomic_write_text(out / "index.html", sweep_page(facts, table, sweep.names, maps, best_result is not None))


def _counts(outcome: SweepOutcome) -> dict[str, Any]:
    sweep = outcome.sweep
    return {
        "name": sweep.spec.run.name, "strategy": sweep.spec.strategy.name, "engine": sweep.settings.engine,
        "parameters": list(sweep.names), "description": sweep.describe(), "spec_hash": sweep.spec_hash,
        "combinations": len(outcome.table), "failed": int(outcome.table["error"].notna().sum()),
    }


def _best_facts(table: pd.DataFrame, best: int | None, names: tuple[str, ...]) -> dict[str, Any] | None:
    if best is None:
        return None
    row = table.set_index("combination").loc[best]
    figures = [c for c in table.columns if c not in (*names, "combination", "rank", "error")]
    return {"combination": best, "parameters": {n: row[n] for n in names}, "figures": {c: row[c] for c in figures}}


def _walk_forward(outcome: SweepOutcome, prices: Mapping[str, pd.DataFrame], tearsheet: bool, out: Path,
                  drawings: list[Task | Split]) -> dict[str, Any] | None:
    """Walk-forward figures and windows when ``[sweep] walk_forward`` is set (its tearsheet, when asked
    for, appended to ``drawings``); the reason when it cannot run.

    The tearsheet's benchmark is the run's, on the sweep's own sessions (``blended_returns``: a session
    the benchmark has no price for is an error, never a zero), cut to the out-of-sample ones."""
    settings, spec = outcome.sweep.settings, outcome.sweep.spec
    if settings.walk_forward is None:
        return None
    try:
        found = walk_forward(outcome.returns, settings.metric, settings.walk_forward.train_days,
                             settings.walk_forward.test_days)
    except NewsbtError as exc:
        return {"available": False, "reason": str(exc)}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "windows.csv", found.windows.to_csv(index=False, lineterminator="\n"))
    if tearsheet:
        benchmark = blended_returns(prices, spec.run.benchmark_weights, outcome.returns.index)
        drawings.append(tearsheet_drawing(found.returns, benchmark.loc[found.returns.index].rename(
            spec.run.benchmark_label), out / "tearsheet.html", title=f"{spec.run.name}: walk-forward out of sample"))
    return {"available": True, "tearsheet": tearsheet, "windows": len(found.windows), **return_metrics(found.returns),
            "train_days": settings.walk_forward.train_days, "test_days": settings.walk_forward.test_days}


HEATMAP_INCHES = (16.0, 12.0)  # a large grid is drawn at this size at most...
HEATMAP_LABELS = 400  # ...its cells labelled with their value up to this many cells...
HEATMAP_TICKS = 30  # ...and every k-th parameter value named, at most this many per axis


def _heatmap_file(axes: tuple[str, str]) -> str:
    x, y = axes
    return f"heatmap_{x}_{y}.png" if y else f"heatmap_{x}.png"


def _heatmap_caption(metric: str, axes: tuple[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The heatmap's file name and its caption, which names the parameters averaged over."""
    x, y = axes
    return {"file": _heatmap_file(axes),
            "caption": f"{metric} by {x}" + (f" and {y}" if y else "") + f" ({_averaged(metric, axes, names)})"}


def _write_heatmap(table: pd.DataFrame, metric: str, axes: tuple[str, str], names: tuple[str, ...],
                   out: Path) -> None:
    """PNG of the mean ``metric`` per (x, y) values."""
    import matplotlib.pyplot as plt  # pyplot (~0.25 s) only in the process that draws

    x, y = axes
    path = out / _heatmap_file(axes)
    with plt.style.context("default"), temporary_path(path) as tmp:  # not styles other libraries left behind
        fig = heatmap_figure(table, metric, x, y, names)
        fig.savefig(tmp, format="png")
    plt.close(fig)


def heatmap_figure(table: pd.DataFrame, metric: str, x: str, y: str, names: tuple[str, ...]) -> Figure:
    """A pyplot figure of the mean ``metric`` per (x, y) values; a large grid is capped in size and labels."""
    import matplotlib.pyplot as plt

    grid = heatmap_grid(table, metric, x, y)
    values = grid.to_numpy(dtype=float)
    size = (min(2.5 + 0.9 * grid.shape[1], HEATMAP_INCHES[0]), min(1.8 + 0.5 * grid.shape[0], HEATMAP_INCHES[1]))
    fig, ax = plt.subplots(figsize=size, dpi=100)
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    xs, ys = (range(0, n, max(1, math.ceil(n / HEATMAP_TICKS))) for n in grid.shape[::-1])
    ax.set_xticks(xs, grid.columns[list(xs)])
    ax.set_yticks(ys, grid.index[list(ys)])
    ax.set(xlabel=x, ylabel=y)
    middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
    for (i, j), value in np.ndenumerate(values if values.size <= HEATMAP_LABELS else np.empty((0, 0))):
        if not math.isnan(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if value > middle else "white")
    ax.set_title(_averaged(metric, (x, y), names), fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def _averaged(metric: str, axes: tuple[str, str], names: tuple[str, ...]) -> str:
    others = [n for n in names if n not in axes]
    return f"mean {metric} over {', '.join(others)}" if others else metric


def sweep_page(facts: Mapping[str, Any], table: pd.DataFrame, names: tuple[str, ...],
               maps: list[dict[str, str]], has_best: bool) -> str:
    """The sweep's HTML page; every piece of user text is escaped."""
    esc = html.escape
    links = [("results.csv", "all combinations, ranked (CSV)"), ("returns.parquet", "daily returns (parquet)"),
             ("summary.json", "summary (JSON)")]
    if has_best:
        links.insert(0, ("best/index.html", "best combination, rerun: tearsheet, trades, charts"))
    link_html = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in links)
    map_html = "".join(f'<figure><img src="{esc(m["file"])}" alt="{esc(m["caption"])}">'
                       f'<figcaption>{esc(m["caption"])}</figcaption></figure>' for m in maps)
    body = (f"<p>{esc(facts['description'])}; engine {esc(facts['engine'])}; {facts['failed']} failed; "
            f"ranked by {esc(facts['metric'])}.</p><ul>{link_html}</ul>"
            f"{_stats_html(facts)}{_walk_forward_html(facts.get('walk_forward'))}"
            f"<h2>Heatmaps</h2>{map_html or '<p>Fewer than two values ran: nothing to map.</p>'}"
            f"<h2>Top {TOP_ROWS}</h2>{top_table(table.head(TOP_ROWS), names)}")
    return page(f"{facts['name']}: sweep of {facts['strategy']}", body)


def _stats_html(facts: Mapping[str, Any]) -> str:
    dsr, pbo = facts["dsr"], facts["pbo"]
    dsr_text = (f"DSR of the best combination ({dsr['combination']}): <b>{dsr['dsr']:.3f}</b>, the probability "
                f"that its true Sharpe ratio (measured {dsr['sharpe_annualised']:.2f} a year) exceeds "
                f"{dsr['expected_max_sharpe_annualised']:.2f}, the best Sharpe ratio expected from "
                f"{dsr['trials']} trials without skill."
                if dsr["available"] else f"DSR not available: {html.escape(dsr['reason'])}")
    pbo_text = (f"PBO: <b>{pbo['pbo']:.3f}</b>, the share of {pbo['splits']} in/out-of-sample splits "
                f"({pbo['blocks']} blocks of the sessions, {pbo['blocks_requested']} asked) where the best "
                f"in-sample Sharpe ratio ranks below the out-of-sample median."
                if pbo["available"] else f"PBO not available: {html.escape(pbo['reason'])}")
    return f"<h2>Overfitting</h2><p>{dsr_text}</p><p>{pbo_text}</p>"


def _walk_forward_html(wf: Mapping[str, Any] | None) -> str:
    if wf is None:
        return ""
    if not wf["available"]:
        return f"<h2>Walk-forward</h2><p>Not available: {html.escape(wf['reason'])}</p>"
    figures = ", ".join(f"{html.escape(label(k))} {fmt(k, wf[k])}" for k in ("total_return", "cagr", "sharpe", "max_drawdown"))
    return (f"<h2>Walk-forward</h2><p>{wf['windows']} windows of {wf['train_days']} sessions in sample, "
            f"{wf['test_days']} out of sample: {figures}. Each window takes the chosen combination's returns "
            "from its full-period run (positions carried in, no re-entry). "
            + ('<a href="walk_forward/tearsheet.html">tearsheet</a>, ' if wf["tearsheet"] else "")
            + '<a href="walk_forward/windows.csv">windows</a></p>')


def top_table(ranked_rows: pd.DataFrame, names: tuple[str, ...]) -> str:
    """The ranked rows as a sortable table: rank, combination, parameters, headline figures, error."""
    columns = ["rank", "combination", *names, "total_return", "cagr", "sharpe", "max_drawdown", "trades", "error"]
    rows = [[fmt(c, row[c]) if c != "error" or isinstance(row[c], str) else "" for c in columns]
            for _, row in ranked_rows.iterrows()]
    return table([label(c) for c in columns], rows, numeric=set(range(len(columns) - 1)))


def _jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars to Python, NaN to None, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return None if value is pd.NA else value
