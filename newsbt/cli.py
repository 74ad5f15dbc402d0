"""The ``newsbt`` command line: thin wrappers over the Python API, with progress and plain errors.

User mistakes (``NewsbtError``) print one line on stderr and exit with status 1, no traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from newsbt import api
from newsbt.errors import NewsbtError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Backtest news-driven trading strategies, point-in-time.")
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", help="Price directory (default: $NEWSBT_DATA_DIR, else data/prices/).")]
ReportsDir = Annotated[Path, typer.Option("--reports-dir", help="Where reports are written.")]
Overrides = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override a value of the backtest file, e.g. --set strategy.drop_pct=10 (repeatable).")]


@contextlib.contextmanager
def stage(progress: Progress, text: str) -> Iterator[None]:
    task = progress.add_task(text, total=None)
    yield
    progress.update(task, completed=1, total=1, description=f"[green]✓[/] {text}")


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=err, transient=False)


@app.command()
def run(
    backtest: Annotated[Path, typer.Argument(help="Backtest file (TOML).")],
    overrides: Overrides = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = Path("reports"),
) -> None:
    """Run one backtest file and write its tearsheet, trades, equity curve and summary."""
    spec = api.load_spec(backtest, overrides or [])
    with progress_bar() as progress:
        with stage(progress, f"loading prices for {spec.run.name}"):
            prices = api.load_prices_for(spec, data_dir)
            events = api.load_events_for(spec, data_dir)
        with stage(progress, f"backtesting {spec.strategy.name} {spec.run.start} → {spec.run.end}"):
            result = api.run(spec, prices=prices, events=events)
        with stage(progress, "writing tearsheet and reports"):
            path = result.write(reports_dir / spec.run.name)
    stats = result.stats
    out.print(f"{spec.run.name}: total return {stats['total_return']:.2%} vs {spec.run.benchmark} "
              f"{result.benchmark_stats['total_return']:.2%}, {stats['trades']} trades")
    out.print(f"tearsheet: {path}", soft_wrap=True)


@app.command()
def strategies() -> None:
    """List the registered strategies and their parameters."""
    from newsbt.registry import get_strategy, strategy_names

    for name in strategy_names():
        fields = get_strategy(name).Params.model_fields
        params = ", ".join(f"{k}={v.default!r}" for k, v in fields.items())
        out.print(f"[bold]{name}[/]: {params}", soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit status 1."""
    try:
        app(args=argv, prog_name="newsbt")
    except NewsbtError as exc:
        err.print(f"error: {exc}", soft_wrap=True, highlight=False, markup=False)
        raise SystemExit(1) from None
