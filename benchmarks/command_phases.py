"""Where a whole command's time goes, phase by phase: run by ``engine_speed.py`` in a fresh process that
has imported ``newsbt.cli`` and nothing else (this module imports only the standard library), doing
what ``newsbt run backtests/ai_crash_dip.toml`` or ``newsbt sweep`` of the 48-grid does, step by step.
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def print_phases_json(command: str, started: float, imported: float) -> None:
    """The body of :func:`phases`, run in that fresh process once it has imported ``newsbt.cli``: as the
    command does, ``run`` starts the report process first, then imports the API and the engines."""
    from newsbt.reports import parallel
    from newsbt.reports import run as report

    out = {"imports (newsbt.cli)": imported}
    if command == "run":
        parallel.start_workers(report.warm_reports)  # the report process imports QuantStats from here on
    label = "imports (the API, backtrader, pydantic; beside the report process's)" if command == "run" else \
        "imports (the API, backtrader, pydantic)"
    api, out[label] = timed(importlib.import_module, "newsbt.api")
    with tempfile.TemporaryDirectory() as tmp:
        (_run_phases if command == "run" else _sweep_phases)(api, parallel, report, Path(tmp), out)
    out["total (references excluded)"] = time.perf_counter() - started - sum(
        seconds for phase, seconds in out.items() if phase.startswith("(reference"))
    print(json.dumps(out))


def _run_phases(api, parallel, report, tmp: Path, out: dict[str, float]) -> None:
    spec = api.load_spec(ROOT / "backtests" / "ai_crash_dip.toml")
    prices, out["loading prices"] = timed(api.load_prices_for, spec)
    result, out["backtest (engine fast, compiled code from the cache)"] = timed(api.run, spec, prices=prices)
    (drawings, files), out["figures, trades, summary, page (text files)"] = timed(
        report.plan_run_files, result.run, tmp / "run")
    _, out[f"tearsheet + {len(drawings) - 1} trade charts, drawn side by side"] = timed(parallel.draw_all, drawings)
    _, out["writing the text files"] = timed(report.write_texts, tmp / "run", files)
    # for reference, outside the command's total: the same drawings one after the other, in this process
    # once it is set up as the report process is (QuantStats imported, pyplot on the file-only canvas)
    _, out["(reference: importing QuantStats and setting up pyplot, as the report process does)"] = timed(
        report.warm_reports)
    drawings, _ = report.plan_run_files(result.run, tmp / "again")
    tearsheet = drawings[0]
    _, out["(reference: the tearsheet alone, its pieces one after the other)"] = timed(
        lambda: tearsheet.join([piece() for piece in tearsheet.pieces]))
    _, out["(reference: the trade charts, one after the other)"] = timed(lambda: [d() for d in drawings[1:]])


def _sweep_phases(api, parallel, report, tmp: Path, out: dict[str, float]) -> None:
    from newsbt.data.sources import price_sources
    from newsbt.sweep.report import write_sweep_report
    from newsbt.sweep.runner import plan_sweep, run_sweep

    planned, out["planning the grid"] = timed(plan_sweep, ROOT / "backtests" / "ai_crash_dip_sweep.toml")
    parallel.start_workers(report.warm_reports)
    prices, out["loading prices"] = timed(price_sources(None).load, planned.tickers,
                                          (planned.spec.run.start, planned.spec.run.end))
    outcome, out[f"sweep phase ({len(planned.combinations)} combinations, compiled code from the cache)"] = timed(
        run_sweep, planned, reports_dir=tmp, resume=False, prices=prices)
    _, out["report: best rerun, DSR/PBO, walk-forward, 2 tearsheets, charts, heatmaps side by side"] = timed(
        write_sweep_report, outcome, prices=prices, tearsheets=True)
