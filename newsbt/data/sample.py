"""The sample bundled with newsbt: compact copies of real data, so a fresh install runs offline.

The files live in ``newsbt/data/embedded/`` and ship as package data:

| file | what it holds |
|---|---|
| ``prices.parquet`` | daily OHLCV of 18 tickers (AI stocks and QQQ, SPY, IWM, SMH), 2015-01-02..2026-05-15 (IWM to 2026-05-20): the values of the price CSVs it was packed from, value for value |
| ``ai_news.csv`` | the seed event calendar, a copy of ``data/events/ai_news.csv`` |

A table is a :class:`SampleTable`: one zstd parquet file, one row per (ticker, time). Another
dataset joins by declaring its own table (e.g. intraday bars under ``embedded/intraday/``) and
listing it in ``TABLES``; ``newsbt data list`` shows every listed table's coverage. The daily table
is rebuilt from a price directory with ``newsbt data pack DIR`` (:func:`pack_daily`).

Frames served from the sample go through :func:`newsbt.data.prices.validate_prices`, the same
checks as a CSV file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from newsbt.core.atomic import temporary_path
from newsbt.core.errors import NewsbtError
from newsbt.data.prices import COLUMNS, PRICE_COLUMNS, available_tickers, price_path, read_price_file, validate_prices

EMBEDDED = Path(__file__).resolve().with_name("embedded")
EVENTS_FILE = EMBEDDED / "ai_news.csv"
COMPRESSION_LEVEL = 19  # zstd: the file is written once and read often


@dataclass(frozen=True)
class SampleTable:
    """One embedded dataset: a parquet file (relative to ``embedded/``) keyed by ticker and time."""

    name: str
    file: str
    time: str = "date"

    @property
    def path(self) -> Path:
        return EMBEDDED / self.file

    def read(self) -> pd.DataFrame:
        """The whole table (read once per process; callers must not modify it)."""
        return _read_parquet(self.path)

    def coverage(self) -> pd.DataFrame:
        """One row per ticker: first and last time, and the number of rows."""
        table = self.read()
        grouped = table.groupby("ticker", sort=True)[self.time]
        return pd.DataFrame({"first": grouped.min(), "last": grouped.max(), "rows": grouped.size()})


DAILY = SampleTable("daily prices", "prices.parquet")
TABLES: tuple[SampleTable, ...] = (DAILY,)


@lru_cache(maxsize=None)
def _read_parquet(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


def sample_tickers() -> list[str]:
    """Tickers of the daily sample (sorted)."""
    return sorted(DAILY.read()["ticker"].unique())


def load_sample(tickers: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Validated daily frames of ``tickers`` from the sample, exactly as :func:`read_price_file` gives a CSV's."""
    table = DAILY.read()
    frames = {}
    for ticker in dict.fromkeys(tickers):
        rows = table[table["ticker"] == ticker]
        if rows.empty:
            raise NewsbtError(f"the bundled sample has no prices for {ticker}; it holds {', '.join(sample_tickers())}")
        frames[ticker] = validate_prices(_as_text(rows), f"{DAILY.path}[{ticker}]")
    return frames


def _as_text(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as the strings a CSV would hold (floats as their shortest exact repr), for validation."""
    text = pd.DataFrame({"date": pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d")})
    for col in PRICE_COLUMNS:
        text[col] = [repr(float(v)) for v in rows[col]]
    text["volume"] = rows["volume"].astype("int64").astype(str)
    return text.reset_index(drop=True)


def pack_daily(price_dir: Path, dest: Path | None = None) -> Path:
    """Pack every ``TICKER.csv`` of ``price_dir`` (validated) into one zstd parquet file; returns its path.

    This is how ``embedded/prices.parquet`` is made: ``newsbt data pack /path/to/prices``. Values are
    the CSVs' own (float64 prices, int64 volume); the file is written atomically.
    """
    tickers = available_tickers(price_dir)
    if not tickers:
        raise NewsbtError(f"no price files (TICKER.csv) in {price_dir.resolve()}")
    parts = []
    for ticker in tickers:
        frame = read_price_file(price_path(ticker, price_dir)).reset_index()
        frame.insert(0, "ticker", ticker)
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table["date"] = table["date"].dt.date
    schema = pa.schema([("ticker", pa.string()), ("date", pa.date32()),
                        *((c, pa.float64()) for c in PRICE_COLUMNS), ("volume", pa.int64())])
    arrow = pa.Table.from_pandas(table[["ticker", *COLUMNS]], schema=schema, preserve_index=False)
    dest = dest or DAILY.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    with temporary_path(dest) as tmp:
        pq.write_table(arrow, tmp, compression="zstd", compression_level=COMPRESSION_LEVEL,
                       use_byte_stream_split=list(PRICE_COLUMNS), use_dictionary=["ticker"])
    _read_parquet.cache_clear()
    return dest
