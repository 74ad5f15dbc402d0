"""The ``newsbt`` command line: thin wrappers over the Python API, with progress and plain errors.

User mistakes (``NewsbtError``) print one line on stderr and exit with status 1, no traceback.
"""

from __future__ import annotations

import functools
import gc
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from newsbt.core.errors import NewsbtError
from newsbt.reports.index import refresh_index
from newsbt.reports.parallel import start_workers, stop_workers
from newsbt.reports.run import warm_reports
from newsbt.cli.common import (
    NEW_YORK, DataDir, IntradayDir, Overrides, RateColumn, ReportsDir, err, note_sample, out, progress_bar, stage,
)

if TYPE_CHECKING:
    from newsbt.reports.result import Result

# Help texts are markdown, not rich markup: "[sweep]" must print as written, not vanish as a style tag.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown", help="Backtest news-driven trading strategies, point-in-time.")

@app.command()
def run(
    backtest: Annotated[Path, typer.Argument(help="Backtest file (TOML).")],
    overrides: Overrides = None,
    data_dir: DataDir = None,
    intraday_dir: IntradayDir = None,
    reports_dir: ReportsDir = Path("reports"),
    tearsheet: Annotated[bool, typer.Option(help="Write the QuantStats tearsheet (about 1.5 s of the command).")] = True,
) -> None:
    """Run one backtest file and write its tearsheet, trades, equity curve and summary."""
    # First of all, before this process imports the engines: the report process then imports QuantStats
    # on the other core while this one imports backtrader, loads prices and backtests (let go on an error).
    start_workers(functools.partial(warm_reports, tearsheet=tearsheet))
    from newsbt import api
    from newsbt.backtest.inputs import NewsCoverageWarning

    spec = api.load_spec(backtest, overrides or [])
    with progress_bar() as progress:
        with stage(progress, f"loading prices for {spec.run.name}"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NewsCoverageWarning)
            prices = api.load_prices_for(spec, data_dir, intraday_dir=intraday_dir)
            events = api.load_events_for(spec, data_dir, intraday_dir)
            signals = api.load_signals_for(spec)
        with stage(progress, f"backtesting {spec.strategy.name} {spec.run.start} → {spec.run.end}"):
            result = api.run(spec, prices=prices, events=events, signals=signals)
        with stage(progress, "writing tearsheet and reports"):
            path = result.write(reports_dir / spec.run.name, tearsheet=tearsheet)
            refresh_index(reports_dir)
    _show_warnings(caught)
    note_sample(spec.run.benchmark_weights if spec.run.intraday else prices, data_dir)  # daily tickers only
    out.print(_headline_table(result))
    out.print(f"{'tearsheet' if tearsheet else 'summary'}: {path}", soft_wrap=True)


def _headline_table(result: Result) -> Table:
    """Strategy and benchmark side by side, figures formatted as in the reports."""
    from newsbt.reports.figures import side_by_side

    spec = result.spec
    table = Table(title=escape(f"{spec.run.name}: {spec.run.start} → {spec.run.end}"), title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("")
    table.add_column(escape(spec.strategy.name), justify="right")
    table.add_column(escape(spec.run.benchmark_label), justify="right")
    for row in side_by_side(result.stats, result.benchmark_stats):
        table.add_row(*row)
    return table


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """News coverage gaps as one plain line each; any other warning as Python would show it."""
    from newsbt.backtest.inputs import NewsCoverageWarning

    for w in caught:
        if issubclass(w.category, NewsCoverageWarning):
            err.print(f"warning: {w.message}", soft_wrap=True, highlight=False, markup=False)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


@app.command()
def sweep(
    backtest: Annotated[Path, typer.Argument(help="Backtest file with a [sweep] section (TOML).")],
    grid: Annotated[Optional[list[str]], typer.Option(
        "--grid", help="Sweep a parameter: name=5,7,10 or name=start:stop:step (repeatable).")] = None,
    overrides: Overrides = None,
    data_dir: DataDir = None,
    intraday_dir: IntradayDir = None,
    reports_dir: ReportsDir = Path("reports"),
    backend: Annotated[Optional[str], typer.Option(help="local (process pool) or dask.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: all cores).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Dask scheduler: tcp://host:port, or local to start a LocalCluster.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip combinations already saved for the same sweep.")] = True,
    tearsheet: Annotated[bool, typer.Option(
        help="Write the tearsheets: the best combination's, and walk-forward's when configured.")] = True,
) -> None:
    """Sweep a strategy's parameters in parallel; rank them and say how likely the best is overfit."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from newsbt import api
    from newsbt.sweep.runner import plan_sweep, run_sweep
    from newsbt.sweep.report import write_sweep_report

    planned = plan_sweep(backtest, overrides=overrides or [], grid_args=grid or [])
    # After the sweep's own imports: its report draws tasks of newsbt.sweep, which the warm process
    # then inherits instead of importing them beside the sweep (tried: 0.2 s slower).
    start_workers(functools.partial(warm_reports, tearsheet=tearsheet))  # imports QuantStats while the sweep runs
    out.print(planned.describe(), soft_wrap=True)
    prices = api.load_prices_for(planned.spec, data_dir, tickers=planned.tickers, intraday_dir=intraday_dir)
    note_sample(prices, data_dir)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               RateColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("sweeping", total=len(planned.combinations))

        def advance(p) -> None:
            progress.update(task, completed=p.done, description=f"sweeping ({p.failed} failed)" if p.failed
                            else "sweeping")

        outcome = run_sweep(planned, data_dir, reports_dir, backend=backend, workers=workers, scheduler=scheduler,
                            resume=resume, progress=advance, prices=prices)
        progress.update(task, description="writing the sweep report")
        page = write_sweep_report(outcome, data_dir, prices=prices, tearsheets=tearsheet)
        refresh_index(reports_dir)
    for damaged in outcome.quarantined:
        err.print(f"damaged part: {damaged}", soft_wrap=True, highlight=False, markup=False)
    out.print(f"{outcome.ran} run, {outcome.resumed} resumed, {outcome.failed} failed in {outcome.seconds:.1f}s "
              f"({outcome.ran / max(outcome.seconds, 1e-9):.1f} combinations/s)")
    out.print(f"sweep: {page}", soft_wrap=True)


@app.command()
def study(
    backtest: Annotated[Path, typer.Argument(help="Backtest file with a [study] section (TOML).")],
    overrides: Overrides = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = Path("reports"),
) -> None:
    """Event study: abnormal returns around each news event, with significance tests."""
    from newsbt.study.runner import run_study

    with progress_bar() as progress:
        with stage(progress, f"event study {backtest}"):
            outcome = run_study(backtest, data_dir=data_dir, overrides=overrides or [])
        with stage(progress, "writing the study report"):
            page = outcome.write(reports_dir)
            refresh_index(reports_dir)
    note_sample([outcome.study.settings.market, *(t for e in outcome.events for t in e.tickers)], data_dir)
    result = outcome.result
    for row in result.caar.itertuples():
        out.print(f"CAAR {row.window}: {row.caar:+.2%} over {row.n} event-tickers, cross-sectional t {row.t:.2f}, "
                  f"BMP t adjusted for clustering {row.kp_t:.2f} (p {row.p_kp:.3f})", soft_wrap=True)
    for bucket, bucket_result in outcome.buckets:
        caars = ", ".join(f"{r.window} {r.caar:+.2%} (p {r.p_kp:.3f})" for r in bucket_result.caar.itertuples())
        out.print(f"{bucket} sentiment, {len(bucket_result.events)} event-tickers: {caars}", soft_wrap=True)
    if len(result.skipped):
        out.print(f"{len(result.skipped)} event-ticker pairs skipped (reasons in the report)")
    out.print(f"study: {page}", soft_wrap=True)


@app.command()
def report(reports_dir: ReportsDir = Path("reports")) -> None:
    """Refresh reports/index.html, the page linking every run, sweep and study."""
    out.print(f"index: {refresh_index(reports_dir)}", soft_wrap=True)


@app.command()
def strategies() -> None:
    """List the registered strategies, where each came from, and their parameters."""
    from newsbt.backtest.registry import get_strategy, strategy_names, strategy_origin

    for name in strategy_names():
        fields = get_strategy(name).Params.model_fields
        params = ", ".join(f"{k}={v.default!r}" for k, v in fields.items())
        out.print(f"[bold]{escape(name)}[/]: {escape(params)}", soft_wrap=True)
        out.print(f"  from {escape(strategy_origin(name))}", style="dim", soft_wrap=True)


events_app = typer.Typer(help="News event files: check them, scan prices for shocks.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("check")
def events_check(
    path: Annotated[Path, typer.Argument(help="Event file (CSV).")],
    data_dir: DataDir = None,
) -> None:
    """Validate an event file; show each event's session, first bar and reaction-day returns."""
    from newsbt.data.events import event_timing, load_events
    from newsbt.data.shocks import reaction_returns
    from newsbt.data.sources import price_sources

    sources = price_sources(data_dir)
    events = load_events(path, sources.tickers())
    timing = event_timing(events)
    prices = sources.load(sorted({t for e in events for t in e.tickers}))
    note_sample(prices, data_dir)
    moves = reaction_returns(events, prices)
    table = Table("event", "available (ET)", "session", "first bar", "reaction day", "reaction-day returns",
                  "headline", box=None)
    for event in events:
        row = timing.loc[event.event_id]
        returns = ", ".join(f"{t} {'n/a' if r is None else format(r, '+.2%')}" for t, r in moves[event.event_id].items())
        table.add_row(event.event_id, f"{event.available_at.tz_convert(NEW_YORK):%Y-%m-%d %H:%M}", str(row.session),
                      f"{row.first_bar:%Y-%m-%d}", f"{row.reaction_day:%Y-%m-%d}", returns, escape(event.headline))
    out.print(table)
    out.print(f"{path}: {len(events)} events, all valid")


@events_app.command("scan")
def events_scan(
    tickers: Annotated[list[str], typer.Argument(help="Tickers to scan, e.g. NVDA AMD.")],
    threshold_pct: Annotated[float, typer.Option(help="Move size, in %, that counts as a shock.")] = 7.0,
    benchmark: Annotated[Optional[str], typer.Option(help="Measure moves relative to this ticker.")] = None,
    start: Annotated[Optional[str], typer.Option(help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    events: Annotated[Optional[Path], typer.Option(help="Event file to join: which shocks had news.")] = None,
    write: Annotated[Optional[Path], typer.Option(
        help="Also save the shocks as a market_move event file (same CSV format).")] = None,
    data_dir: DataDir = None,
) -> None:
    """List single-day price shocks, and the news (if any) whose reaction day they are."""
    from newsbt.core.atomic import atomic_write_text
    from newsbt.data.events import format_events, load_events
    from newsbt.data.shocks import explain_shocks, find_shocks
    from newsbt.data.sources import price_sources

    sources = price_sources(data_dir)
    prices = sources.load([*tickers, *([benchmark] if benchmark else [])])
    note_sample(prices, data_dir)
    shocks = find_shocks(prices, threshold_pct / 100.0, tickers=tickers, benchmark=benchmark, start=start, end=end)
    news = load_events(events, sources.tickers()) if events else ()
    table = Table("day", "ticker", "return", "move", "news", box=None)
    for item in explain_shocks(shocks, news):
        s = item.shock
        headlines = "; ".join(escape(f"{e.event_id}: {e.headline}") for e in item.news) or "[dim]no news[/]"
        table.add_row(f"{s.day:%Y-%m-%d}", s.ticker, f"{s.ret:+.2%}", f"{s.move:+.2%}", headlines)
    out.print(table)
    out.print(f"{len(shocks)} shocks beyond {threshold_pct:g}% in {', '.join(tickers)}")
    if write:
        atomic_write_text(write, format_events(s.to_event() for s in shocks))
        out.print(f"shock events: {write}", soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit status 1."""
    if argv is None:  # the console script: what is imported now lives until the process ends, so the
        gc.freeze()  # garbage collector never walks it again (a full collection of it costs ~0.1 s)
    try:
        app(args=argv, prog_name="newsbt")
    except NewsbtError as exc:
        err.print(f"error: {exc}", soft_wrap=True, highlight=False, markup=False)
        raise SystemExit(1) from None
    finally:
        stop_workers()  # report workers that a command started and did not use (it failed first)
        if argv is None:  # the console script: the process ends here
            gc.freeze()  # so its last garbage collection skips every object numba and pandas made (~0.5 s)
