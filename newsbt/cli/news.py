"""``newsbt news``: build a headline store, score it, see its coverage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from newsbt.cli.common import DataDir, out
from newsbt.data.news.rows import DateOnlyPolicy
from newsbt.data.news.store import DEFAULT_STORE

news_app = typer.Typer(help="Headline stores: import feeds, score sentiment, show coverage.", no_args_is_help=True)
Store = Annotated[Path, typer.Option("--store", help="News store directory.")]


@news_app.command("import")
def news_import(
    files: Annotated[list[Path], typer.Argument(help="News files: CSV, JSON or JSON lines.")],
    store: Store = DEFAULT_STORE,
    data_dir: DataDir = None,
    timezone: Annotated[Optional[str], typer.Option(
        help="Zone of timestamps written without a UTC offset, e.g. America/New_York or UTC.")] = None,
    date_only: Annotated[DateOnlyPolicy, typer.Option(
        help="When a bare date becomes public: after_close (its first bar is the next session) or "
             "before_open (optimistic).")] = DateOnlyPolicy.AFTER_CLOSE,
    window_hours: Annotated[float, typer.Option(help="Rows this close to a story's first may join it.")] = 24.0,
    min_similarity: Annotated[float, typer.Option(help="Headline word overlap (Jaccard) to be one story.")] = 0.8,
) -> None:
    """Validate news files and build the store: rows, de-duplicated stories, each on the NYSE calendar."""
    from newsbt.data.news.store import import_news
    from newsbt.data.news.stories import StoryRule
    from newsbt.data.prices import available_tickers, resolve_data_dir

    began = time.perf_counter()
    report = import_news(files, available_tickers(resolve_data_dir(data_dir)), store, timezone, date_only,
                         StoryRule(window_hours, min_similarity))
    out.print(f"{report.rows} rows from {len(report.files)} file(s) -> {report.stories} stories "
              f"({report.collapsed} rows collapsed into earlier stories), {report.date_only} date-only rows "
              f"({date_only.value}); store: {store} in {time.perf_counter() - began:.1f}s", soft_wrap=True)


@news_app.command("score")
def news_score(
    store: Store = DEFAULT_STORE,
    scorer: Annotated[Optional[list[str]], typer.Option(
        "--scorer", help="A registered scorer (repeatable; default: lm and vader).")] = None,
) -> None:
    """Add headline sentiment to every story (score_<scorer> columns), offline and deterministic."""
    from newsbt.data.news.store import read_store, replace_stories
    from newsbt.data.news.sentiment import score_headlines

    news = read_store(store)
    stories = news.stories.copy()
    for name in scorer or ["lm", "vader"]:
        stories[f"score_{name}"] = score_headlines(stories["headline"], name).to_numpy()
        out.print(f"{name}: mean {stories[f'score_{name}'].mean():+.3f}, "
                  f"{(stories[f'score_{name}'] != 0).mean():.0%} of {len(stories)} stories non-zero")
    replace_stories(news, stories)
    out.print(f"scored: {store}", soft_wrap=True)


@news_app.command("stats")
def news_stats(store: Store = DEFAULT_STORE) -> None:
    """Rows, stories and the date-only share per ticker and month: see a feed's gaps before trusting it."""
    from rich.markup import escape

    from newsbt.data.news.store import coverage, read_store

    news = read_store(store)
    table = Table("ticker", "month", "rows", "stories", "date-only", box=None)
    for row in coverage(news).itertuples():
        ticker, month = row.Index
        table.add_row(escape(ticker), month, str(row.rows), str(row.stories), f"{row.date_only_share:.0%}")
    out.print(table)
    rows, stories = news.rows, news.stories
    out.print(f"{len(rows)} rows, {len(stories)} stories, {rows['date_only'].mean():.0%} date-only; "
              f"tickers {', '.join(sorted(stories['ticker'].unique()))}; months without news are not listed",
              soft_wrap=True)
