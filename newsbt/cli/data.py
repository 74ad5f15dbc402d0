"""``newsbt data``: where prices come from (list), downloading them (fetch), packing the bundled sample (pack)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsbt.cli.common import DataDir, IntradayDir, err, out
from newsbt.core.errors import NewsbtError

if TYPE_CHECKING:
    import pandas as pd

data_app = typer.Typer(help="Price data: where it comes from, download it into the cache.", no_args_is_help=True)


@data_app.command("list")
def data_list(data_dir: DataDir = None) -> None:
    """Show the price sources in the order they are searched, and the tickers and dates each holds."""
    from newsbt.data.sample import EVENTS_FILE, TABLES
    from newsbt.data.sources import price_sources

    sources = price_sources(data_dir).sources
    coverage = [source.coverage() for source in sources]
    out.print("Each ticker is read from the first source that has it:")
    for number, (source, held) in enumerate(zip(sources, coverage), start=1):
        out.print(f"  {number}. {escape(source.label)}: {len(held)} tickers", soft_wrap=True, highlight=False)
    table = Table("ticker", *(f"{n}. {s.kind}" for n, s in enumerate(sources, start=1)), "read from", box=None)
    for ticker in sorted({t for held in coverage for t in held.index}):
        cells = [_span(held, ticker) for held in coverage]
        used = next(n for n, cell in enumerate(cells, start=1) if cell)
        table.add_row(ticker, *(cell or "-" for cell in cells), f"{used}. {sources[used - 1].kind}")
    out.print(table)
    for extra in TABLES[1:]:
        spans = ", ".join(f"{t} {_span(extra.coverage(), t)}" for t in extra.coverage().index)
        out.print(f"sample {extra.name}: {spans}", soft_wrap=True, highlight=False)
    out.print(f"sample seed event calendar: {EVENTS_FILE}", soft_wrap=True, highlight=False)


def _span(held: pd.DataFrame, ticker: str) -> str:
    """``first..last (rows)`` of ``ticker`` in a coverage frame; empty when the source lacks it."""
    if ticker not in held.index:
        return ""
    row = held.loc[ticker]
    return f"{row['first']}..{row['last']} ({row['rows']})"


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


@data_app.command("pack")
def data_pack(
    price_dir: Annotated[Path, typer.Argument(help="Directory of TICKER.csv price files to pack.")],
    output: Annotated[Optional[Path], typer.Option(
        "--out", help="Parquet file to write (default: the bundled sample, newsbt/data/embedded/prices.parquet).")] = None,
) -> None:
    """Pack a price directory into one compressed parquet file: how the bundled sample is rebuilt."""
    from newsbt.data.prices import available_tickers
    from newsbt.data.sample import pack_daily

    path = pack_daily(price_dir, output)
    out.print(f"packed {len(available_tickers(price_dir))} tickers of {price_dir} into {path} "
              f"({path.stat().st_size / 1e6:.2f} MB)", soft_wrap=True, highlight=False)
