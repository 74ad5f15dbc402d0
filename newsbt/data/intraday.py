"""Intraday price files: minute and hourly bars with pre-, regular- and post-market sessions.

One CSV per ticker and bar size, ``TICKER_<bars>.csv`` (``NVDA_1h.csv``, ``QQQ_5m.csv``), header
``timestamp,open,high,low,close,volume,session`` plus an optional ``source``:

- ``timestamp`` is the bar's **start**, ISO 8601 with its UTC offset (``2024-07-30T16:00:00-04:00``);
  a time without an offset is refused, since a naive time cannot be placed against the news;
- rows ascend, with no two bars at the same instant;
- ``session`` (``pre``, ``regular``, ``post``) must be the one the real NYSE calendar gives the bar's
  start, on an NYSE session day. One exception is accepted because public files do it: bars after an
  *early* close (13:00 on 2024-11-29) labelled ``regular`` by a plain 09:30-16:00 rule. The loaded
  frame keeps the file's ``session`` and adds ``nyse_session``, the calendar's label, which is what
  runs and studies use; :func:`early_close_relabels` lists such bars and a run reports them;
- bars may have different lengths, even within a day (Yahoo's hourly grid ends with a 30-minute
  15:30 bar); only their starts matter.

The first problem is reported with the file and line, as for daily files. Nothing is dropped or
filled. Extended-hours bars whose high or low lies more than ``SUSPECT_PCT`` % beyond their
open-close range (bad off-exchange prints, common in Yahoo's post-market bars) are *flagged*, never
dropped: :func:`suspect_prints` lists them and :func:`apply_print_policy` keeps them (``"keep"``) or
clips high and low to the open-close range (``"clip"``); a run reports them in its summary.

Where the files live: ``--intraday-dir`` / ``[run] intraday_dir``, else ``$NEWSBT_INTRADAY_DIR``,
else ``data/intraday/``; a file found in none of them is taken from the sample embedded in the
package (NVDA hourly and QQQ 5-minute bars), so the README's intraday examples run offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError, located
from newsbt.data.calendar import EXCHANGE_TZ, bar_sessions
from newsbt.data.prices import line_of_row, parse_numbers, read_csv_strings

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume", "session")
OPTIONAL_COLUMNS = ("source",)
SESSIONS = ("pre", "regular", "post")
BAR_SIZES = ("1m", "2m", "5m", "15m", "30m", "1h")
INTRADAY_DIR_ENV = "NEWSBT_INTRADAY_DIR"
DEFAULT_INTRADAY_DIR = Path("data/intraday")
EMBEDDED_DIR = Path(__file__).parent / "embedded" / "intraday"
SUSPECT_PCT = 3.0
PRICE_SCALE = 10_000  # embedded prices are stored as whole 1/10000ths
PrintPolicy = Literal["keep", "clip"]
_ISO_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)")


def intraday_key(ticker: str, bars: str) -> str:
    """The name of a ticker's intraday frame among a run's prices, and of its file: ``NVDA_1h``."""
    return f"{ticker}_{bars}"


def resolve_intraday_dir(intraday_dir: str | Path | None = None) -> Path:
    """``intraday_dir`` if given, else ``$NEWSBT_INTRADAY_DIR``, else ``data/intraday/``."""
    if intraday_dir is not None:
        return Path(intraday_dir)
    env = os.environ.get(INTRADAY_DIR_ENV)
    return Path(env) if env else DEFAULT_INTRADAY_DIR


def available_intraday(bars: str, directory: Path) -> list[str]:
    """Tickers with ``bars`` bars in ``directory`` or in the embedded sample (sorted)."""
    found = list(EMBEDDED_DIR.glob(f"*_{bars}.parquet"))
    if directory.is_dir():
        found += directory.glob(f"*_{bars}.csv")
    return sorted({p.name.rsplit("_", 1)[0] for p in found})


def load_intraday(tickers: Iterable[str], bars: str, directory: Path) -> dict[str, pd.DataFrame]:
    """Validated bars of each ticker, keyed by :func:`intraday_key`: from ``directory``, else from
    the embedded sample; a ticker in neither is an error naming both and the fetch command."""
    frames = {}
    for ticker in dict.fromkeys(tickers):
        name = intraday_key(ticker, bars)
        path, embedded = directory / f"{name}.csv", EMBEDDED_DIR / f"{name}.parquet"
        if path.is_file():
            frames[name] = read_intraday_file(path)
        elif embedded.is_file():
            frames[name] = read_embedded(embedded)
        else:
            raise NewsbtError(
                f"no {bars} bars for {ticker}: looked for {path.resolve()} and the embedded sample; set "
                f"--intraday-dir or {INTRADAY_DIR_ENV}, or download them with: newsbt data fetch {ticker} "
                f"--interval {bars} --prepost --start <YYYY-MM-DD>"
            )
    return frames


def read_intraday_file(path: Path) -> pd.DataFrame:
    """Parse and validate one intraday CSV into a frame indexed by bar start (New York time)."""
    return validate_intraday(read_csv_strings(path), path)


def read_embedded(path: Path) -> pd.DataFrame:
    """An embedded compact Parquet sample (see :func:`write_compact`), checked like a file."""
    raw = pd.read_parquet(path)
    frame = pd.DataFrame({"timestamp": pd.to_datetime(raw["timestamp"], unit="s", utc=True).dt.tz_convert(EXCHANGE_TZ)})
    for col in ("open", "high", "low", "close"):
        frame[col] = raw[col].to_numpy(dtype=np.int64) / PRICE_SCALE  # correctly rounded: the CSV's double
    frame["volume"] = raw["volume"].astype("int64")
    frame["session"] = raw["session"].astype(str)
    frame["source"] = raw["source"].astype(str)
    return _check_bars(frame, path).set_index("timestamp")


def write_compact(frame: pd.DataFrame, path: Path) -> None:
    """Store validated bars (prices of at most 4 decimals) exactly and small: epoch seconds and prices
    in 1/10000 as delta-encoded integers, sessions and sources as dictionaries, zstd. Embedded
    samples are built with it from the shared files (``tests/test_intraday_data.py`` checks them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps = frame.index.tz_convert("UTC").as_unit("s").asi8
    columns = {"timestamp": pa.array(stamps, pa.int64())}
    for col in ("open", "high", "low", "close"):
        ticks = np.round(frame[col].to_numpy() * PRICE_SCALE).astype(np.int64)
        if not np.array_equal(ticks / PRICE_SCALE, frame[col].to_numpy()):
            raise NewsbtError(f"{path}: {col} has more than 4 decimals; it cannot be stored exactly")
        columns[col] = pa.array(ticks, pa.int64())
    columns["volume"] = pa.array(frame["volume"].to_numpy(), pa.int64())
    for col in ("session", "source"):
        columns[col] = pa.array(frame[col].astype(str).to_numpy()).dictionary_encode()
    delta = {c: "DELTA_BINARY_PACKED" for c in ("timestamp", "open", "high", "low", "close", "volume")}
    pq.write_table(pa.table(columns), path, compression="zstd", compression_level=19,
                   use_dictionary=["session", "source"], column_encoding=delta)


def validate_intraday(raw: pd.DataFrame, path: object = "<frame>") -> pd.DataFrame:
    """Validate a frame of strings (as read from CSV); line numbers count the header as line 1."""
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise located(path, 1, f"missing column(s) {', '.join(missing)}; expected header {','.join(COLUMNS)}"
                               f"[,{','.join(OPTIONAL_COLUMNS)}]")
    if raw.empty:
        raise located(path, None, "has a header but no rows")
    frame = pd.DataFrame(index=raw.index)
    frame["timestamp"] = _parse_timestamps(raw["timestamp"], path)
    for col in ("open", "high", "low", "close", "volume"):
        frame[col] = parse_numbers(raw[col], col, path)
    frame["session"] = raw["session"].str.strip()
    if "source" in raw.columns:
        frame["source"] = raw["source"].str.strip()
    frame = _check_bars(frame, path)
    frame["volume"] = frame["volume"].astype("int64")
    return frame.set_index("timestamp")


def suspect_prints(frame: pd.DataFrame, pct: float = SUSPECT_PCT) -> pd.DataFrame:
    """Extended-hours bars whose high or low lies more than ``pct`` % beyond their open-close range."""
    top, bottom = frame[["open", "close"]].max(axis=1), frame[["open", "close"]].min(axis=1)
    extended = frame["nyse_session"] != "regular"
    flagged = extended & ((frame["high"] > top * (1 + pct / 100)) | (frame["low"] < bottom * (1 - pct / 100)))
    return frame.loc[flagged, ["nyse_session", "open", "high", "low", "close"]]


def early_close_relabels(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """Bars the file calls ``regular`` that start at or after an early close (the calendar: ``post``)."""
    return frame.index[frame["session"] != frame["nyse_session"]]


def apply_print_policy(frame: pd.DataFrame, policy: PrintPolicy, pct: float = SUSPECT_PCT) -> pd.DataFrame:
    """``keep``: the bars as they are; ``clip``: suspect bars' high and low cut to their open-close range."""
    if policy == "keep":
        return frame
    suspects = suspect_prints(frame, pct).index
    out = frame.copy()
    out.loc[suspects, "high"] = out.loc[suspects, ["open", "close"]].max(axis=1)
    out.loc[suspects, "low"] = out.loc[suspects, ["open", "close"]].min(axis=1)
    return out


def session_window(frame: pd.DataFrame, start, end, sessions: Iterable[str]) -> pd.DataFrame:
    """Bars of the chosen sessions whose New York day lies in ``start..end`` (inclusive)."""
    days = frame.index.tz_localize(None).normalize()
    keep = (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end)) & frame["nyse_session"].isin(list(sessions))
    return frame.loc[keep]


def _parse_timestamps(col: pd.Series, path: object) -> pd.Series:
    text = col.str.strip()
    bad = ~text.str.fullmatch(_ISO_WITH_OFFSET)
    if bad.any():
        i = bad.idxmax()
        raise located(path, line_of_row(i), f"timestamp {col[i]!r} needs ISO 8601 with a UTC offset, "
                                        "e.g. 2024-07-30T16:00:00-04:00")
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if parsed.isna().any():
        i = parsed.isna().idxmax()
        raise located(path, line_of_row(i), f"unparseable timestamp {col[i]!r}")
    return parsed.dt.tz_convert(EXCHANGE_TZ)


def _check_bars(frame: pd.DataFrame, path: object) -> pd.DataFrame:
    """Order, uniqueness, sessions against the NYSE calendar, positivity and the OHLC envelope;
    returns the frame with the calendar's ``nyse_session``."""
    stamps = frame["timestamp"]
    problems = [(stamps.duplicated(), lambda r: f"duplicate bar start {r['timestamp'].isoformat()}"),
                (stamps.diff() < pd.Timedelta(0),
                 lambda r: f"bar start {r['timestamp'].isoformat()} is before the row above it; bars must ascend")]
    _, expected = bar_sessions(pd.DatetimeIndex(stamps))
    frame_expected = pd.Series(expected, index=frame.index)
    problems += [
        (~frame["session"].isin(SESSIONS),
         lambda r: f"session {r['session']!r}; expected one of {', '.join(SESSIONS)}"),
        (frame_expected == "", lambda r: f"{r['timestamp'].date()} is not an NYSE session (weekend or holiday)"),
        ((frame["session"] != frame_expected) & ~_early_close_convention(frame["session"], frame_expected, stamps),
         lambda r: f"bar at {r['timestamp'].isoformat()} is labelled {r['session']} but the NYSE calendar puts "
                   f"it in {frame_expected[r.name]}"),
    ]
    problems += [(frame[c] <= 0, lambda r, c=c: f"non-positive {c}") for c in ("open", "high", "low", "close")]
    problems += [
        (frame["volume"] < 0, lambda r: "negative volume"),
        (frame["volume"] % 1 != 0, lambda r: "volume is not a whole number"),
        (frame["high"] < frame["low"], lambda r: "high is below low"),
        ((frame["open"] < frame["low"]) | (frame["open"] > frame["high"]), lambda r: "open is outside [low, high]"),
        ((frame["close"] < frame["low"]) | (frame["close"] > frame["high"]), lambda r: "close is outside [low, high]"),
    ]
    for mask, message in problems:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            i = frame.index[int(np.argmax(mask))]
            row = frame.loc[i]
            raise located(path, line_of_row(i), message(row))
    return frame.assign(nyse_session=expected)


def _early_close_convention(session: pd.Series, expected: pd.Series, stamps: pd.Series) -> np.ndarray:
    """``regular`` where the calendar says ``post`` because of an early close (the bar starts before 16:00)."""
    local = stamps.dt.tz_convert(EXCHANGE_TZ)
    before_four = (local.dt.hour * 60 + local.dt.minute) < 16 * 60
    return ((session == "regular") & (expected == "post") & before_four).to_numpy()
