"""Download daily prices into the price directory: ``newsbt data fetch TICKER... --start --end``.

Prices come from Yahoo Finance through yfinance, an optional extra (``pip install "newsbt[fetch]"``),
imported only when a download is made. Each ticker becomes ``TICKER.csv`` in the schema of
:mod:`newsbt.data.prices` (``date,open,high,low,close,adj_close,volume``): split-adjusted open, high, low
and close, ``adj_close`` also adjusted for dividends, prices rounded to 4 decimals, whole-number
volume, ISO dates in ascending order.

Nothing unchecked lands on disk: the exact text about to be written is parsed back and validated
with :func:`newsbt.prices.validate_prices` first, and the file is written to a temporary sibling and
renamed into place, so an interruption leaves either the old file or the new one, never a mix.

When ``TICKER.csv`` already exists, its rows are kept only when the download proves they are the
same history (see :func:`merge_prices`); otherwise the download replaces the file and the returned
:class:`Fetched` (and a warning on the ``newsbt.data.fetch`` logger) says why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.data.prices import COLUMNS, PRICE_COLUMNS, price_path, read_price_file, resolve_data_dir, validate_prices
from newsbt.core.atomic import atomic_write_text

log = logging.getLogger(__name__)

PRICE_DECIMALS = 4
# Overlapping closes further apart than this mean the history changed (a split, a correction).
CLOSE_TOLERANCE = 0.005
INSTALL_HINT = 'pip install "newsbt[fetch]"'
_YAHOO_COLUMNS = {"open": "open", "high": "high", "low": "low", "close": "close",
                  "adj close": "adj_close", "adj_close": "adj_close", "volume": "volume"}
_TICKER = re.compile(r"[A-Z0-9^][A-Z0-9.\-^=_]*")

Downloader = Callable[[str, dt.date, dt.date], pd.DataFrame]
DateLike = str | dt.date


@dataclass(frozen=True)
class Fetched:
    """What happened to one ticker's file.

    ``action`` is ``created`` (no file before), ``merged`` (old rows kept, new rows added or
    refreshed), ``replaced`` (the old history disagreed with the download, or could not be checked
    against it; ``note`` says why) or ``unchanged`` (the file already held exactly this; not rewritten).
    """

    ticker: str
    path: Path
    rows: int
    action: Literal["created", "merged", "replaced", "unchanged"]
    note: str = ""


def fetch_prices(
    tickers: Iterable[str],
    start: DateLike,
    end: DateLike | None,
    data_dir: str | Path | None,
    downloader: Downloader | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Fetched]:
    """Download ``tickers`` from ``start`` to ``end`` (both inclusive) into ``data_dir``.

    ``end=None`` means today; ``data_dir=None`` means :func:`newsbt.prices.resolve_data_dir`.
    ``downloader(ticker, start, end)`` returns a yfinance-shaped frame (``end`` inclusive; defaults
    to :func:`yfinance_download`). ``progress(ticker)`` is called after each ticker's file is done.
    Tickers are upper-cased and de-duplicated, and handled one by one: the first failure raises a
    ``NewsbtError`` naming its ticker, and the files of the tickers before it stay written.
    Returns a :class:`Fetched` per ticker, in ticker order (a replaced history also logs a warning).
    """
    names = normalise_tickers(tickers)
    first, last = date_range(start, end)
    directory = resolve_data_dir(data_dir)
    done = []
    for ticker in names:
        done.append(fetch_ticker(ticker, first, last, directory, downloader))
        if progress is not None:
            progress(ticker)
    return done


def fetch_ticker(
    ticker: str,
    start: DateLike,
    end: DateLike | None,
    data_dir: str | Path | None,
    downloader: Downloader | None = None,
) -> Fetched:
    """Download, validate, merge and atomically write one ticker's price file."""
    (ticker,) = normalise_tickers([ticker])
    first, last = date_range(start, end)
    directory = resolve_data_dir(data_dir)
    path = price_path(ticker, directory)
    download = downloader or yfinance_download
    try:
        raw = download(ticker, first, last)
    except NewsbtError:
        raise
    except Exception as exc:  # whatever the network or the library throws, said in one line
        raise NewsbtError(f"could not download {ticker}: {one_line(exc)}") from exc
    new = to_price_frame(raw, ticker)
    new = new[(new.index >= pd.Timestamp(first)) & (new.index <= pd.Timestamp(last))]
    if new.empty:
        raise NewsbtError(f"no prices for {ticker} from {first} to {last}: unknown or delisted ticker, "
                          "or no trading session in that range")
    new = _checked(new, f"{path.name} (downloaded)", f"refused the download of {ticker}, nothing written")

    if path.exists():
        try:
            old = read_price_file(path)
        except NewsbtError as exc:
            raise NewsbtError(f"{exc}; the existing file was left as it is: fix or delete it, then fetch "
                              f"{ticker} again") from None
        frame, note = merge_prices(old, new)
        action = "replaced" if note else "merged"
    else:
        frame, note, action = new, "", "created"
    frame = _checked(frame, path.name, f"{ticker}: the merged prices are invalid, nothing written")
    text = price_csv(frame)

    if action == "merged" and path.read_text(encoding="utf-8") == text:
        return Fetched(ticker, path, len(frame), "unchanged")
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    if note:
        log.warning("%s: replaced %s: %s", ticker, path, note)
    return Fetched(ticker, path, len(frame), action, note)


def merge_prices(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Combine an existing validated history with a validated download; returns (frame, note).

    The download always wins over the whole range it covers (first to last downloaded date). Old rows
    outside that range are kept only when the download proves they belong to the same history:

    - the two must share at least one date (otherwise nothing can be checked: the download replaces
      the file);
    - on every shared date the closes must agree within 0.5 % (``CLOSE_TOLERANCE``); a larger gap
      means the history was re-based (typically a split since the file was written) and mixing the
      two would plant a fake jump, so the download replaces the file;
    - ``adj_close`` is rescaled in the kept old rows by the ratio new/old over the shared dates, as
      a dividend paid since the file was written lowers every earlier adjusted close by one factor.

    ``note`` is empty for a merge and says why for a replacement.
    """
    shared = old.index.intersection(new.index)
    if shared.empty:
        return new, (f"no date in common with the existing {old.index[0].date()} to {old.index[-1].date()} "
                     "history, so it could not be checked; the download replaced it")
    gap = (new.loc[shared, "close"] / old.loc[shared, "close"] - 1).abs()
    if (gap > CLOSE_TOLERANCE).any():
        day = gap.idxmax()
        return new, (f"close on {day.date()} was {old.at[day, 'close']:g}, now {new.at[day, 'close']:g} "
                     f"({gap[day]:.1%} apart: a split or a revised history); the download replaced "
                     "the whole file")
    kept = old[(old.index < new.index[0]) | (old.index > new.index[-1])].copy()
    factor = new.loc[shared, "adj_close"].sum() / old.loc[shared, "adj_close"].sum()
    if abs(factor - 1) > 1e-6:
        kept["adj_close"] = (kept["adj_close"] * factor).round(PRICE_DECIMALS)
    return pd.concat([kept, new]).sort_index(), ""


def to_price_frame(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """A yfinance frame (flat or MultiIndex columns) as a price frame: date index, schema columns.

    Prices are rounded to 4 decimals and volume made a whole number; missing values stay missing so
    that validation reports them. Extra columns (dividends, splits) are ignored.
    """
    if raw is None:
        raw = pd.DataFrame()
    frame = flat_columns(raw, ticker)
    if "date" in {str(c).strip().lower() for c in frame.columns}:
        frame = frame.set_index([c for c in frame.columns if str(c).strip().lower() == "date"][0])
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS[1:]), index=pd.DatetimeIndex([], name="date"))
    renamed = {c: _YAHOO_COLUMNS[str(c).strip().lower()] for c in frame.columns
               if str(c).strip().lower() in _YAHOO_COLUMNS}
    frame = frame[list(renamed)].rename(columns=renamed)
    missing = [c for c in COLUMNS[1:] if c not in frame.columns]
    if missing:
        hint = " (was it downloaded with auto_adjust=True?)" if missing == ["adj_close"] else ""
        raise NewsbtError(f"the download of {ticker} has no {', '.join(missing)} column{hint}; "
                          f"got {', '.join(map(str, raw.columns))}")
    index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    if index.tz is not None:
        index = index.tz_localize(None)  # keep the exchange's calendar date
    out = frame[list(COLUMNS[1:])].apply(pd.to_numeric, errors="coerce")
    out.index = index.normalize().rename("date")
    out[list(PRICE_COLUMNS)] = out[list(PRICE_COLUMNS)].round(PRICE_DECIMALS)
    out["volume"] = out["volume"].round().astype("Int64")
    return out.sort_index(kind="stable")


def price_csv(frame: pd.DataFrame) -> str:
    """The file text of a price frame, exactly as written."""
    out = frame[list(COLUMNS[1:])].copy()
    out[list(PRICE_COLUMNS)] = out[list(PRICE_COLUMNS)].astype(float).round(PRICE_DECIMALS)
    out["volume"] = out["volume"].astype("Int64")
    return out.to_csv(index_label="date", date_format="%Y-%m-%d", lineterminator="\n")


def yfinance_download(ticker: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Split-adjusted daily bars of ``ticker`` from Yahoo Finance, ``end`` inclusive.

    yfinance reports failures (network, unknown ticker) on its logger and returns an empty frame;
    those messages are captured and raised as a ``NewsbtError`` naming the ticker.
    """
    try:
        import yfinance as yf
    except ImportError:
        raise NewsbtError(f"downloading prices needs yfinance, an optional extra: {INSTALL_HINT}") from None
    with captured_log("yfinance") as messages, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")  # its pandas deprecations are not ours
        frame = yf.download(ticker, start=start.isoformat(), end=(end + dt.timedelta(days=1)).isoformat(),
                            interval="1d", auto_adjust=False, actions=False, progress=False, threads=False)
    if (frame is None or frame.empty) and messages:
        raise NewsbtError(f"could not download {ticker}: {'; '.join(messages)}")
    return frame


def normalise_tickers(tickers: Iterable[str]) -> list[str]:
    """Upper-cased, de-duplicated tickers; anything that cannot be a file name is refused."""
    if isinstance(tickers, str):
        tickers = [tickers]
    names = list(dict.fromkeys(str(t).strip().upper() for t in tickers))
    if not names:
        raise NewsbtError("no ticker given; e.g. newsbt data fetch NVDA QQQ --start 2019-01-01")
    bad = [t for t in names if not _TICKER.fullmatch(t)]
    if bad:
        raise NewsbtError(f"not a ticker: {bad[0]!r}; expected letters, digits and . - ^ = _ (e.g. BRK-B, ^GSPC)")
    return names


def date_range(start: DateLike, end: DateLike | None) -> tuple[dt.date, dt.date]:
    """``start`` and ``end`` (default today) as dates, checked to be in order."""
    first = _as_date(start, "start")
    last = dt.date.today() if end is None else _as_date(end, "end")
    if first > last:
        raise NewsbtError(f"start {first} is after end {last}")
    return first, last


def _as_date(value: DateLike, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise NewsbtError(f"{name} date {value!r} is not a date; expected YYYY-MM-DD") from None


def flat_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """yfinance gives (Price, Ticker) columns even for one ticker (or (Ticker, Price) when grouped
    by ticker): keep this ticker's slice, keyed by the price field alone."""
    if not isinstance(raw.columns, pd.MultiIndex):
        return raw
    fields = set(_YAHOO_COLUMNS)
    level = next((i for i in range(raw.columns.nlevels)
                  if {str(v).strip().lower() for v in raw.columns.get_level_values(i)} & fields), None)
    if level is None or raw.columns.nlevels != 2:
        raise NewsbtError(f"the download of {ticker} has unexpected columns {list(raw.columns)}")
    other = 1 - level
    names = list(dict.fromkeys(raw.columns.get_level_values(other)))
    if len(names) > 1:
        match = [n for n in names if str(n).upper() == ticker]
        if not match:
            raise NewsbtError(f"the download of {ticker} holds {', '.join(map(str, names))}, not {ticker}")
        raw = raw.xs(match[0], axis=1, level=other)
    else:
        raw = raw.droplevel(other, axis=1)
    return raw


def _checked(frame: pd.DataFrame, label: str, context: str) -> pd.DataFrame:
    """Validate the exact text that would be written, parsed back as strings; returns the parsed frame."""
    text = price_csv(frame)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    try:
        return validate_prices(raw, label)
    except NewsbtError as exc:
        raise NewsbtError(f"{context}: {exc}") from None


@contextlib.contextmanager
def captured_log(name: str) -> Iterator[list[str]]:
    """Collect a library logger's errors (instead of printing them, once each) while in the block."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = one_line(record.getMessage())
            if text and text not in messages and not re.fullmatch(r"\d+ Failed downloads?:", text):
                messages.append(text)

    logger = logging.getLogger(name)
    handler = Collect(logging.ERROR)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def one_line(value: object) -> str:
    return " ".join(str(value).split())
