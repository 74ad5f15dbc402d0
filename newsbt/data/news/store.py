"""The news store: headline files in, validated rows and de-duplicated stories out, as Parquet.

A store is a directory (default ``data/news/``, git-ignored: feeds have their own licences) holding

| file | what it holds |
|---|---|
| ``rows.parquet`` | every input row: place (``file:line``), ticker, headline, source, url, dataset, published_at (UTC, empty when date only), date_only, available_at, session, first_bar, reaction_day, story_id |
| ``stories.parquet`` | one row per story (:mod:`newsbt.data.news.stories`), plus a ``score_<name>`` column per scorer once ``newsbt news score`` ran |
| ``store.json`` | how it was built: files, date_only policy, timezone, the story rule, counts |

A store is written whole or not at all: everything is validated first, then written into a temporary
sibling directory that replaces the old store only when complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.data.news.feeds import read_feed
from newsbt.data.news.rows import DateOnlyPolicy, validate_rows
from newsbt.data.news.stories import StoryRule, build_stories

DEFAULT_STORE = Path("data/news")
ROWS, STORIES, META = "rows.parquet", "stories.parquet", "store.json"


@dataclass(frozen=True)
class NewsStore:
    """A store as read back: its rows, its stories and how it was built."""

    path: Path
    rows: pd.DataFrame
    stories: pd.DataFrame
    meta: dict

    @property
    def scorers(self) -> tuple[str, ...]:
        return tuple(c.removeprefix("score_") for c in self.stories.columns if c.startswith("score_"))


@dataclass(frozen=True)
class ImportReport:
    files: tuple[str, ...]
    rows: int
    stories: int
    date_only: int

    @property
    def collapsed(self) -> int:
        """Rows that joined an earlier story instead of starting one."""
        return self.rows - self.stories


def import_hint(store: Path) -> str:
    """The command that builds ``store`` (shown whenever a store is missing)."""
    return f"newsbt news import FILE... --store {store}"


def import_news(files: Sequence[str | Path], known_tickers: Iterable[str], store: str | Path = DEFAULT_STORE,
                timezone: str | None = None, date_only: DateOnlyPolicy = DateOnlyPolicy.AFTER_CLOSE,
                rule: StoryRule = StoryRule()) -> ImportReport:
    """Read, validate and de-duplicate ``files`` into a new store at ``store`` (replacing any old one)."""
    if not files:
        raise NewsbtError("no news file given; e.g. newsbt news import headlines.csv")
    known_tickers = frozenset(known_tickers)
    if not known_tickers:
        raise NewsbtError("no price files found, so no ticker can be checked; set --data-dir or NEWSBT_DATA_DIR "
                          "to the price directory (see `newsbt data fetch`)")
    raw = pd.concat([read_feed(f) for f in files], ignore_index=True)
    if raw.empty:
        raise NewsbtError(f"{', '.join(map(str, files))}: no headline rows")
    rows = validate_rows(raw, known_tickers, timezone, date_only)
    rows, stories = build_stories(rows, rule)
    meta = {"files": [str(f) for f in files], "date_only": str(DateOnlyPolicy(date_only)), "timezone": timezone,
            "rule": dataclasses.asdict(rule), "rows": len(rows), "stories": len(stories)}
    write_store(Path(store), rows, stories, meta)
    return ImportReport(tuple(map(str, files)), len(rows), len(stories), int(rows["date_only"].sum()))


def write_store(store: Path, rows: pd.DataFrame, stories: pd.DataFrame, meta: dict) -> None:
    """Write all three files into a temporary sibling, then swap it in for the old store."""
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{store.name}.", dir=store.parent))
    try:
        rows.to_parquet(tmp / ROWS, index=False)
        stories.to_parquet(tmp / STORIES, index=False)
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        old = store.with_name(f".{store.name}.old")
        if store.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(store, old)
        os.replace(tmp, store)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_store(store: str | Path = DEFAULT_STORE) -> NewsStore:
    """Read a store; a missing one is a one-line error with the command that builds it."""
    store = Path(store)
    if not all((store / name).is_file() for name in (ROWS, STORIES, META)):
        raise NewsbtError(f"no news store at {store}; build it with: {import_hint(store)}")
    meta = json.loads((store / META).read_text(encoding="utf-8"))
    return NewsStore(store, pd.read_parquet(store / ROWS), pd.read_parquet(store / STORIES), meta)


def replace_stories(store: NewsStore, stories: pd.DataFrame) -> None:
    """Write ``stories`` (e.g. with new score columns) back, whole, with the same rows and meta."""
    write_store(store.path, store.rows, stories, store.meta)


def coverage(store: NewsStore) -> pd.DataFrame:
    """Per ticker and month: rows, stories and the share of date-only rows (``newsbt news stats``)."""
    rows = store.rows.assign(month=store.rows["first_bar"].dt.strftime("%Y-%m"))
    stories = store.stories.assign(month=store.stories["first_bar"].dt.strftime("%Y-%m"))
    table = rows.groupby(["ticker", "month"]).agg(rows=("loc", "size"), date_only_share=("date_only", "mean"))
    table["stories"] = stories.groupby(["ticker", "month"]).size()
    return table[["rows", "stories", "date_only_share"]].fillna({"stories": 0}).astype({"stories": int})


def coverage_gaps(store: NewsStore, tickers: Iterable[str], start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    """A sentence per ticker with months of ``start..end`` without a single story (a run warns about
    them: a gap in a feed looks exactly like a quiet stretch of news)."""
    months = pd.period_range(start, end, freq="M")
    seen = store.stories.assign(month=store.stories["first_bar"].dt.to_period("M")).groupby("ticker")["month"]
    covered = {ticker: set(m) for ticker, m in seen}
    gaps = []
    for ticker in tickers:
        missing = [m for m in months if m not in covered.get(ticker, set())]
        if len(missing) == len(months):
            gaps.append(f"{ticker}: no news at all in {store.path} for the run {start:%Y-%m-%d}..{end:%Y-%m-%d}")
        elif missing:
            gaps.append(f"{ticker}: no news in {_month_ranges(missing)} (run {start:%Y-%m-%d}..{end:%Y-%m-%d})")
    return gaps


def _month_ranges(months: list[pd.Period]) -> str:
    """``2024-06..2024-09, 2025-02``: consecutive months as one range."""
    runs: list[list[pd.Period]] = []
    for month in months:
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)
