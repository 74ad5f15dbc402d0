"""Download intraday bars: ``newsbt data fetch TICKER... --interval 1m|5m|1h [--prepost] --start --end``.

Bars come from Yahoo Finance through yfinance (the optional ``fetch`` extra), split-adjusted, with
pre- and post-market bars when ``prepost``. Each ticker becomes ``TICKER_<interval>.csv`` in the
intraday directory (:func:`newsbt.data.intraday.resolve_intraday_dir`), in the format of
:mod:`newsbt.data.intraday`: bar start with its UTC offset, prices to 4 decimals, whole-number volume
(Yahoo reports 0 for extended hours), the session the NYSE calendar gives each bar, ``source``
``yfinance``. As for daily files, the exact text is parsed back and validated before it is written
atomically. An existing file keeps its bars outside the downloaded span (Yahoo keeps only recent
intraday history: 7 days of 1-minute bars, 60 of 5-minute, 730 of hourly), so repeated fetches
accumulate history; the downloaded span replaces what the file held for it.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from newsbt.core.atomic import atomic_write_text
from newsbt.core.errors import NewsbtError
from newsbt.data.calendar import EXCHANGE_TZ, bar_sessions
from newsbt.data.fetch import (
    INSTALL_HINT, DateLike, Fetched, captured_log, date_range, flat_columns, normalise_tickers, one_line,
)
from newsbt.data.intraday import intraday_key, read_intraday_file, resolve_intraday_dir, validate_intraday

INTERVALS = ("1m", "5m", "1h")
PRICE_DECIMALS = 4
SOURCE = "yfinance"
IntradayDownloader = Callable[[str, dt.date, dt.date, str, bool], pd.DataFrame]


def fetch_intraday(tickers: Iterable[str], interval: str, start: DateLike, end: DateLike | None,
                   intraday_dir: str | Path | None, prepost: bool = False,
                   downloader: IntradayDownloader | None = None,
                   progress: Callable[[str], None] | None = None) -> list[Fetched]:
    """Download each ticker's ``interval`` bars from ``start`` to ``end`` (inclusive New York days)."""
    if interval not in INTERVALS:
        raise NewsbtError(f"interval {interval!r}: expected one of {', '.join(INTERVALS)} (or 1d for daily bars)")
    names, (first, last) = normalise_tickers(tickers), date_range(start, end)
    directory = resolve_intraday_dir(intraday_dir)
    done = []
    for ticker in names:
        done.append(_fetch_one(ticker, interval, first, last, directory, prepost, downloader or yfinance_intraday))
        if progress is not None:
            progress(ticker)
    return done


def _fetch_one(ticker: str, interval: str, first: dt.date, last: dt.date, directory: Path, prepost: bool,
               download: IntradayDownloader) -> Fetched:
    path = directory / f"{intraday_key(ticker, interval)}.csv"
    try:
        raw = download(ticker, first, last, interval, prepost)
    except NewsbtError:
        raise
    except Exception as exc:  # whatever the network or the library throws, said in one line
        raise NewsbtError(f"could not download {ticker}: {one_line(exc)}") from exc
    new = to_intraday_frame(raw, ticker)
    days = new.index.tz_localize(None).normalize()
    new = new[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))]
    if new.empty:
        raise NewsbtError(f"no {interval} bars for {ticker} from {first} to {last}: unknown ticker, no session "
                          f"in that range, or older than Yahoo keeps {interval} bars")
    action = "created"
    if path.exists():
        old = read_intraday_file(path)
        outside = (old.index < new.index[0]) | (old.index > new.index[-1])
        new, action = pd.concat([old.loc[outside], new]).sort_index(), "merged"
    text = _checked_text(new, path.name, ticker)
    if action == "merged" and path.read_text(encoding="utf-8") == text:
        return Fetched(ticker, path, len(new), "unchanged")
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return Fetched(ticker, path, len(new), action)


def to_intraday_frame(raw: pd.DataFrame | None, ticker: str) -> pd.DataFrame:
    """A yfinance intraday frame as bars: New York bar starts in order, 4-decimal prices, calendar sessions."""
    frame = flat_columns(raw if raw is not None else pd.DataFrame(), ticker)
    columns = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in ("open", "high", "low", "close", "volume") if c not in columns]
    if frame.empty:
        return pd.DataFrame(columns=["open", "high", "low", "close", "volume", "session", "source"],
                            index=pd.DatetimeIndex([], tz=EXCHANGE_TZ, name="timestamp"))
    if missing:
        raise NewsbtError(f"the download of {ticker} has no {', '.join(missing)} column; "
                          f"got {', '.join(map(str, frame.columns))}")
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        raise NewsbtError(f"the download of {ticker} has bar times without a time zone; refusing to guess one")
    out = pd.DataFrame({c: pd.to_numeric(frame[columns[c]], errors="coerce") for c in ("open", "high", "low", "close")})
    out = out.round(PRICE_DECIMALS)
    out["volume"] = pd.to_numeric(frame[columns["volume"]], errors="coerce").round().astype("Int64")
    out.index = index.tz_convert(EXCHANGE_TZ).rename("timestamp")
    out["session"] = bar_sessions(out.index)[1]
    out["source"] = SOURCE
    return out.sort_index(kind="stable")  # duplicates stay, for validation to report


def intraday_csv(frame: pd.DataFrame) -> str:
    """The file text of an intraday frame, exactly as written."""
    out = frame[["open", "high", "low", "close", "volume", "session", "source"]].copy()
    out.index = [t.isoformat() for t in frame.index]
    return out.to_csv(index_label="timestamp", lineterminator="\n")


def yfinance_intraday(ticker: str, start: dt.date, end: dt.date, interval: str, prepost: bool) -> pd.DataFrame:
    """Split-adjusted ``interval`` bars of ``ticker`` from Yahoo Finance, ``end`` inclusive."""
    try:
        import yfinance as yf
    except ImportError:
        raise NewsbtError(f"downloading prices needs yfinance, an optional extra: {INSTALL_HINT}") from None
    with captured_log("yfinance") as messages, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        frame = yf.download(ticker, start=start.isoformat(), end=(end + dt.timedelta(days=1)).isoformat(),
                            interval=interval, prepost=prepost, auto_adjust=False, actions=False,
                            progress=False, threads=False)
    if (frame is None or frame.empty) and messages:
        raise NewsbtError(f"could not download {ticker}: {'; '.join(messages)}")
    return frame


def _checked_text(frame: pd.DataFrame, label: str, ticker: str) -> str:
    """The text to write, validated as it will be read back."""
    text = intraday_csv(frame)
    try:
        validate_intraday(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False), label)
    except NewsbtError as exc:
        raise NewsbtError(f"refused the {ticker} bars, nothing written: {exc}") from None
    return text
