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
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never open a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from newsbt.backtest.inputs import load_prices_for, run_spec  # noqa: E402
from newsbt.core.atomic import atomic_write_text, temporary_path  # noqa: E402
from newsbt.core.errors import NewsbtError  # noqa: E402
from newsbt.reports.htmlpage import figure, page  # noqa: E402
from newsbt.backtest.metrics import return_metrics  # noqa: E402
from newsbt.reports.result import Result  # noqa: E402
from newsbt.reports.run import write_tearsheet  # noqa: E402
from newsbt.sweep.runner import SweepOutcome  # noqa: E402
from newsbt.sweep.stats import best_combination, heatmap_grid, heatmap_pairs, overfitting, ranked  # noqa: E402
from newsbt.sweep.walkforward import walk_forward  # noqa: E402

TOP_ROWS = 20


def write_sweep_report(
    outcome: SweepOutcome,
    data_dir: str | Path | None = None,
    prices: Mapping[str, pd.DataFrame] | None = None,
    tearsheets: bool = True,
) -> Path:
    """Write every output of the sweep (see the module docstring); returns the path of ``index.html``."""
    sweep, out = outcome.sweep, outcome.directory
    metric = sweep.settings.metric
    table = ranked(outcome.table, metric)
    best = best_combination(outcome.table, metric)
    prices = prices if prices is not None else load_prices_for(sweep.spec, data_dir, tickers=sweep.tickers)
    best_result = Result(run_spec(sweep.spec_for(best), prices, data_dir)) if best is not None else None
    if best_result is not None:
        best_result.write(out / "best", tearsheet=tearsheets)
    facts = {
        **_counts(outcome), "metric": metric,
        "best": _best_facts(table, best, sweep.names),
        **overfitting(outcome.returns, best, sweep.settings.pbo_blocks),
        "walk_forward": _walk_forward(outcome, best_result, out / "walk_forward", tearsheets),
    }
    maps = [_write_heatmap(outcome.table, metric, (x, y), sweep.names, out)
            for x, y in heatmap_pairs(outcome.table, sweep.names)]
    atomic_write_text(out / "results.csv", table.to_csv(index=False, lineterminator="\n"))
    with temporary_path(out / "returns.parquet") as tmp:
        outcome.returns.rename(columns=str).to_parquet(tmp)
    atomic_write_text(out / "summary.json", json.dumps(_jsonable(facts), indent=2) + "\n")
    atomic_write_text(out / "index.html", sweep_page(facts, table, sweep.names, maps, best_result is not None))
    return out / "index.html"


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


def _walk_forward(outcome: SweepOutcome, best_result: Result | None, out: Path,
                  tearsheets: bool) -> dict[str, Any] | None:
    """Walk-forward figures (and files) when ``[sweep] walk_forward`` is set; the reason when it cannot run."""
    settings = outcome.sweep.settings
    if settings.walk_forward is None:
        return None
    try:
        found = walk_forward(outcome.returns, settings.metric, settings.walk_forward.train_days,
                             settings.walk_forward.test_days)
    except NewsbtError as exc:
        return {"available": False, "reason": str(exc)}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "windows.csv", found.windows.to_csv(index=False, lineterminator="\n"))
    tearsheet = tearsheets and best_result is not None
    if tearsheet:  # the benchmark on the sweep's sessions, from the best run (same calendar unless tickers vary)
        benchmark = best_result.benchmark_returns.reindex(found.returns.index).fillna(0.0)
        write_tearsheet(found.returns, benchmark, out / "tearsheet.html",
                        title=f"{outcome.sweep.spec.run.name}: walk-forward out of sample")
    return {"available": True, "tearsheet": tearsheet, "windows": len(found.windows), **return_metrics(found.returns),
            "train_days": settings.walk_forward.train_days, "test_days": settings.walk_forward.test_days}


def _write_heatmap(table: pd.DataFrame, metric: str, axes: tuple[str, str], names: tuple[str, ...],
                   out: Path) -> dict[str, str]:
    """PNG of the mean ``metric`` per (x, y) values; the caption names the parameters averaged over."""
    x, y = axes
    grid = heatmap_grid(table, metric, x, y)
    values = grid.to_numpy(dtype=float)
    others = [n for n in names if n not in axes]
    caption = f"mean {metric} over {', '.join(others)}" if others else metric
    path = out / f"heatmap_{x}_{y}.png" if y else out / f"heatmap_{x}.png"
    with plt.style.context("default"), temporary_path(path) as tmp:  # not styles other libraries left behind
        fig, ax = plt.subplots(figsize=(2.5 + 0.9 * grid.shape[1], 1.8 + 0.5 * grid.shape[0]), dpi=100)
        image = ax.imshow(values, cmap="viridis", aspect="auto")
        ax.set_xticks(range(grid.shape[1]), grid.columns)
        ax.set_yticks(range(grid.shape[0]), grid.index)
        ax.set(xlabel=x, ylabel=y)
        middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
        for (i, j), value in np.ndenumerate(values):
            if not math.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if value > middle else "white")
        ax.set_title(caption, fontsize=9)
        fig.colorbar(image, ax=ax)
        fig.tight_layout()
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return {"file": path.name, "caption": f"{metric} by {x}" + (f" and {y}" if y else "") + f" ({caption})"}


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
            f"<h2>Top {TOP_ROWS}</h2>{_table_html(table.head(TOP_ROWS), names)}")
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
    figures = ", ".join(f"{html.escape(k)} {figure(wf[k])}" for k in ("total_return", "cagr", "sharpe", "max_drawdown"))
    return (f"<h2>Walk-forward</h2><p>{wf['windows']} windows of {wf['train_days']} sessions in sample, "
            f"{wf['test_days']} out of sample: {figures}. Each window takes the chosen combination's returns "
            "from its full-period run (positions carried in, no re-entry). "
            + ('<a href="walk_forward/tearsheet.html">tearsheet</a>, ' if wf["tearsheet"] else "")
            + '<a href="walk_forward/windows.csv">windows</a></p>')


def _table_html(table: pd.DataFrame, names: tuple[str, ...]) -> str:
    columns = ["rank", "combination", *names, "total_return", "cagr", "sharpe", "max_drawdown", "trades", "error"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(figure(row[c]))}</td>" for c in columns) + "</tr>"
                   for _, row in table.iterrows())
    return f"<table><tr>{head}</tr>{body}</table>"


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
