"""The ``newsbt`` command line: thin wrappers over the Python API, with progress and plain errors.

User mistakes (``NewsbtError``) print one line on stderr and exit with status 1, no traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from newsbt import api
from newsbt.core.errors import NewsbtError
from newsbt.reports.index import refresh_index
from newsbt.cli.common import (
    NEW_YORK, DataDir, IntradayDir, Overrides, RateColumn, ReportsDir, err, out, progress_bar, stage,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Backtest news-driven trading strategies, point-in-time.")

@app.command()
def run(
    backtest: Annotated[Path, typer.Argument(help="Backtest file (TOML).")],
    overrides: Overrides = None,
    data_dir: DataDir = None,
    intraday_dir: IntradayDir = None,
    reports_dir: ReportsDir = Path("reports"),
) -> None:
    """Run one backtest file and write its tearsheet, trades, equity curve and summary."""
    spec = api.load_spec(backtest, overrides or [])
    with progress_bar() as progress:
        with stage(progress, f"loading prices for {spec.run.name}"):
            prices = api.load_prices_for(spec, data_dir, intraday_dir=intraday_dir)
            events = api.load_events_for(spec, data_dir, intraday_dir)
        with stage(progress, f"backtesting {spec.strategy.name} {spec.run.start} → {spec.run.end}"):
            result = api.run(spec, prices=prices, events=events)
        with stage(progress, "writing tearsheet and reports"):
            path = result.write(reports_dir / spec.run.name)
            refresh_index(reports_dir)
    stats = result.stats
    out.print(f"{spec.run.name}: total return {stats['total_return']:.2%} vs {spec.run.benchmark_label} "
              f"{result.benchmark_stats['total_return']:.2%}, {stats['trades']} trades")
    out.print(f"tearsheet: {path}", soft_wrap=True)


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
    tearsheet: Annotated[bool, typer.Option(help="Write the best combination's tearsheet.")] = True,
) -> None:
    """Sweep a strategy's parameters in parallel; rank them and say how likely the best is overfit."""
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from newsbt.sweep.runner import plan_sweep, run_sweep
    from newsbt.sweep.report import write_sweep_report

    planned = plan_sweep(backtest, overrides=overrides or [], grid_args=grid or [])
    out.print(planned.describe(), soft_wrap=True)
    prices = api.load_prices_for(planned.spec, data_dir, tickers=planned.tickers, intraday_dir=intraday_dir)
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
    result = outcome.result
    for row in result.caar.itertuples():
        out.print(f"CAAR {row.window}: {row.caar:+.2%} over {row.n} event-tickers, cross-sectional t {row.t:.2f}, "
                  f"BMP t adjusted for clustering {row.kp_t:.2f} (p {row.p_kp:.3f})", soft_wrap=True)
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


data_app = typer.Typer(help="Price data: download into the cache.", no_args_is_help=True)
events_app = typer.Typer(help="News event files: check them, scan prices for shocks.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(events_app, name="events")


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Tickers, e.g. NVDA QQQ.")],
    start: Annotated[str, typer.Option(help="First date, YYYY-MM-DD.")],
    end: Annotated[Optional[str], typer.Option(help="Last date, inclusive; default today.")] = None,
    interval: Annotated[str, typer.Option(help="1d (daily files), or intraday bars: 1m, 5m, 1h.")] = "1d",
    prepost: Annotated[bool, typer.Option(help="Intraday: include pre- and post-market bars.")] = False,
    data_dir: DataDir = None,
    intraday_dir: IntradayDir = None,
) -> None:
    """Download split-adjusted daily prices or intraday bars (needs the `fetch` extra)."""
    from rich.progress import BarColumn, MofNCompleteColumn

    from newsbt.data.fetch import fetch_prices, normalise_tickers
    from newsbt.data.intraday_fetch import fetch_intraday

    if interval == "1d" and prepost:
        raise NewsbtError("--prepost needs intraday bars: --interval 1m, 5m or 1h")
    with Progress(SpinnerColumn(), TextColumn("downloading"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("fetch", total=len(normalise_tickers(tickers)))
        advance = lambda _: progress.advance(task, 1)  # noqa: E731
        fetched = (fetch_prices(tickers, start, end, data_dir, progress=advance) if interval == "1d" else
                   fetch_intraday(tickers, interval, start, end, intraday_dir, prepost, progress=advance))
    for f in fetched:
        out.print(f"{f.ticker}: {f.action} {f.path} ({f.rows} rows){' - ' + f.note if f.note else ''}", soft_wrap=True)


@events_app.command("check")
def events_check(
    path: Annotated[Path, typer.Argument(help="Event file (CSV).")],
    data_dir: DataDir = None,
) -> None:
    """Validate an event file; show each event's session, first bar and reaction-day returns."""
    from newsbt.data.events import event_timing, load_events
    from newsbt.data.prices import available_tickers, load_prices, resolve_data_dir
    from newsbt.data.shocks import reaction_returns

    directory = resolve_data_dir(data_dir)
    events = load_events(path, available_tickers(directory))
    timing = event_timing(events)
    prices = load_prices(sorted({t for e in events for t in e.tickers}), directory)
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
    from newsbt.data.prices import available_tickers, load_prices, resolve_data_dir
    from newsbt.data.shocks import explain_shocks, find_shocks

    directory = resolve_data_dir(data_dir)
    prices = load_prices([*tickers, *([benchmark] if benchmark else [])], directory)
    shocks = find_shocks(prices, threshold_pct / 100.0, tickers=tickers, benchmark=benchmark, start=start, end=end)
    news = load_events(events, available_tickers(directory)) if events else ()
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
    try:
        app(args=argv, prog_name="newsbt")
    except NewsbtError as exc:
        err.print(f"error: {exc}", soft_wrap=True, highlight=False, markup=False)
        raise SystemExit(1) from None
