"""What every command module shares: the consoles, common options, and progress display."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

out = Console()
err = Console(stderr=True)
NEW_YORK = "America/New_York"

DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", help="Price directory searched first (default: $NEWSBT_DATA_DIR); then the data/prices/ cache, "
                       "then the sample bundled with newsbt (`newsbt data list` shows them).")]
IntradayDir = Annotated[Optional[Path], typer.Option(
    "--intraday-dir", help="Intraday bars (default: [run] intraday_dir, $NEWSBT_INTRADAY_DIR, data/intraday/, "
                           "then the embedded sample).")]
ReportsDir = Annotated[Path, typer.Option("--reports-dir", help="Where reports are written.")]
Overrides = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override a value of the backtest file, e.g. --set strategy.drop_pct=10 (repeatable).")]


def note_sample(tickers: Iterable[str], data_dir: Path | None) -> None:
    """Say on stderr, in one line, which tickers the bundled sample serves and how to fetch fresh prices."""
    from newsbt.data.sources import price_sources

    note = price_sources(data_dir).sample_note(tickers)
    if note:
        err.print(f"note: {note}", soft_wrap=True, highlight=False, markup=False)


class RateColumn(ProgressColumn):
    """Items per second, once rich has measured it."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "")


@contextlib.contextmanager
def stage(progress: Progress, text: str) -> Iterator[None]:
    task = progress.add_task(text, total=None)
    try:
        yield
    except BaseException:
        progress.update(task, completed=0, total=1, description=f"[red]✗[/] {text}")
        raise
    progress.update(task, completed=1, total=1, description=f"[green]✓[/] {text}")


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=err, transient=False)
