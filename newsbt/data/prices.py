"""Daily OHLCV price files: find them, parse them, refuse them when they are wrong.

One CSV per ticker, ``TICKER.csv`` with header ``date,open,high,low,close,adj_close,volume``.
Every check runs before a frame is handed on, and the first problem is reported as one line naming
file, row (the line number in the file) and what was expected. Nothing is filled or dropped.

Two readers, one set of rules: a plainly clean file (see :func:`read_clean_cells`) is parsed by pandas'
C reader; anything else goes through the exact reader (:func:`read_csv_strings`, then
:func:`validate_prices`), which names the line of the first problem. Both give the same frame, and the
row checks (order, uniqueness, positivity, the OHLC envelope) run once, on that frame.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError, located

COLUMNS = ("date", "open", "high", "low", "close", "adj_close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
DATA_DIR_ENV = "NEWSBT_DATA_DIR"
DEFAULT_DATA_DIR = Path("data/prices")
DEFAULT_FETCH_START = dt.date(2015, 1, 2)


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """``data_dir`` if given, else ``$NEWSBT_DATA_DIR``, else ``data/prices/``: where ``newsbt data fetch``
    writes. Runs read through :mod:`newsbt.data.sources`, which also searches the cache and the sample."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_DATA_DIR


def price_path(ticker: str, data_dir: Path) -> Path:
    return data_dir / f"{ticker}.csv"


def available_tickers(data_dir: Path) -> list[str]:
    """Tickers that have a price file in ``data_dir`` (sorted)."""
    if not data_dir.is_dir():
        return []
    return sorted(p.stem for p in data_dir.glob("*.csv"))


def fetch_hint(tickers: Iterable[str], period: tuple[dt.date, dt.date] | None = None) -> str:
    """The command that downloads missing tickers into the cache (for ``period``, when known)."""
    start, end = period or (DEFAULT_FETCH_START, None)
    return f"newsbt data fetch {' '.join(tickers)} --start {start}" + (f" --end {end}" if end else "")


def load_prices(
    tickers: Iterable[str], data_dir: Path, period: tuple[dt.date, dt.date] | None = None
) -> dict[str, pd.DataFrame]:
    """Load and validate every ticker; a missing file names the ticker, the directory searched and
    the command that would download it (for ``period``, the dates the caller needs)."""
    tickers = list(dict.fromkeys(tickers))
    missing = [t for t in tickers if not price_path(t, data_dir).is_file()]
    if missing:
        raise NewsbtError(
            f"no price file for {', '.join(missing)} in {data_dir.resolve()} "
            f"(looked for {', '.join(t + '.csv' for t in missing)}); "
            f"set --data-dir or {DATA_DIR_ENV}, or download them with: {fetch_hint(missing, period)}"
        )
    return {t: read_price_file(price_path(t, data_dir)) for t in tickers}


def read_price_file(path: Path) -> pd.DataFrame:
    """Parse and validate one price file into a frame indexed by date (float prices, int volume).
    A plainly clean file is parsed by the fast path, anything else by the exact reader."""
    cells = read_clean_cells(path)
    if cells is None:
        return validate_prices(read_csv_strings(path), path)
    return _checked(cells, path)


_CLEAN_HEADER = ",".join(COLUMNS).encode()
# One row per line: a YYYY-MM-DD date, then six unsigned decimals whose whole part has at most 15 digits
# (possessive quantifiers: nothing here needs backtracking, and with it the match takes twice as long).
_CLEAN_ROWS = re.compile(rb"(?:\d{4}-\d\d-\d\d(?:,\d{1,15}+(?:\.\d++)?+){6}\n)++")
_CLEAN_DTYPES = {"date": object} | {c: np.float64 for c in PRICE_COLUMNS + ("volume",)}


def read_clean_cells(path: Path) -> pd.DataFrame | None:
    """The parsed cells of a plainly clean price file (as :func:`validate_prices` parses them, before
    the row checks), or None when anything about the file is unusual and the exact reader must decide.

    Clean: an optional UTF-8 BOM, the exact header, then only rows of a date and six unsigned decimals
    (no sign, exponent, space, quote, blank or missing cell; LF or CRLF line ends), and every date real.
    On such text pandas' C reader cannot disagree with the exact one: each line is one row of seven
    cells; a number with a decimal point becomes a float through pandas' ``precise_xstrtod`` in both
    readers, and a whole number of at most 15 digits is exact in both (the exact reader takes it through
    int64); dates go through the same :func:`_to_dates`, and an impossible one leaves the file to the
    exact reader, which names its line.
    """
    header, _, body = path.read_bytes().removeprefix(codecs.BOM_UTF8).partition(b"\n")
    if header.removesuffix(b"\r") != _CLEAN_HEADER:
        return None
    body = body.replace(b"\r\n", b"\n") if b"\r" in body else body
    body = body if body.endswith(b"\n") else body + b"\n"
    if _CLEAN_ROWS.fullmatch(body) is None:
        return None
    cells = pd.read_csv(io.BytesIO(body), header=None, names=list(COLUMNS), dtype=_CLEAN_DTYPES,
                        engine="c", na_filter=False)
    cells["date"] = _to_dates(cells["date"])
    return None if cells["date"].isna().any() else cells


def read_csv_strings(path: Path) -> pd.DataFrame:
    """Every cell of a CSV file as a string; a malformed file is refused with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise located(path, None, f"not a readable CSV file ({exc})") from None
    if not text.strip():
        raise located(path, None, "not a readable CSV file (it is empty)")
    header, rows = _csv_rows(text, path)
    return pd.DataFrame(rows, columns=header, dtype=str)


def _csv_rows(text: str, path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and each row, one per file line (short rows padded with empty cells, so a missing
    value is reported by its column); a row longer than the header is refused, never shifted."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    try:
        header = [h.strip() for h in next(reader)]
        repeated = [c for c in COLUMNS if header.count(c) > 1]
        if repeated:
            raise located(path, 1, f"column {repeated[0]} appears twice in the header")
        for row in reader:
            line = len(rows) + 2
            if reader.line_num != line:
                raise located(path, line, "a quoted field runs over several lines; expected one row per line")
            if len(row) > len(header):
                raise located(path, line, f"expected {len(header)} fields like the header, got {len(row)}")
            rows.append(row + [""] * (len(header) - len(row)))
    except csv.Error as exc:
        raise located(path, reader.line_num, f"not a readable CSV file ({exc})") from None
    return header, rows


def validate_prices(raw: pd.DataFrame, path: object = "<frame>") -> pd.DataFrame:
    """Validate a frame of strings (as read from CSV); line numbers count the header as line 1."""
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise located(path, 1, f"missing column(s) {', '.join(missing)}; expected header {','.join(COLUMNS)}")
    if raw.empty:
        raise located(path, None, "has a header but no rows")
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1)
    if blank.any():
        raise located(path, line_of_row(blank.idxmax()), f"blank line; expected a row of {','.join(COLUMNS)}")
    frame = pd.DataFrame(index=raw.index)
    frame["date"] = _parse_dates(raw["date"], path)
    for col in PRICE_COLUMNS + ("volume",):
        frame[col] = parse_numbers(raw[col], col, path)
    return _checked(frame, path)


def line_of_row(i: object) -> int:
    """Row ``i`` of a frame read from a CSV file is line ``i + 2`` of the file (line 1 is the header)."""
    return int(i) + 2


def _checked(frame: pd.DataFrame, path: object) -> pd.DataFrame:
    """The parsed cells, once they pass the row checks, indexed by date with an integer volume."""
    _check_rows(frame, path)
    out = frame.set_index("date")
    out["volume"] = out["volume"].astype("int64")
    return out


def _to_dates(text: pd.Series) -> pd.Series:
    """Strict YYYY-MM-DD; anything else is NaT."""
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def _parse_dates(col: pd.Series, path: object) -> pd.Series:
    text = col.str.strip()
    empty = text == ""
    if empty.any():
        raise located(path, line_of_row(empty.idxmax()), "missing value in column date; expected YYYY-MM-DD")
    parsed = _to_dates(text)
    bad = parsed.isna()
    if bad.any():
        i = bad.idxmax()
        raise located(path, line_of_row(i), f"unparseable date {col[i]!r}; expected YYYY-MM-DD")
    return parsed


def parse_numbers(col: pd.Series, name: str, path: object) -> pd.Series:
    text = col.str.strip()
    empty = text == ""
    if empty.any():
        raise located(path, line_of_row(empty.idxmax()), f"missing value in column {name}; expected a number")
    values = pd.to_numeric(text, errors="coerce")
    is_nan_literal = text.str.lower().isin(["nan", "na", "n/a", "null", "none"])
    if is_nan_literal.any():
        i = is_nan_literal.idxmax()
        raise located(path, line_of_row(i), f"NaN in column {name} ({col[i]!r}); expected a number")
    bad = values.isna() | ~np.isfinite(values.astype(float))
    if bad.any():
        i = bad.idxmax()
        raise located(path, line_of_row(i), f"unparseable number {col[i]!r} in column {name}")
    return values.astype(float)


def _check_rows(frame: pd.DataFrame, path: object) -> None:
    """Row-level sanity: order, uniqueness, positivity and the OHLC envelope. The masks are built on the
    arrays (every file loaded passes through here); a row is named by its frame label, as ``idxmax`` would."""
    days = frame["date"].to_numpy()
    if not (days[1:] > days[:-1]).all():  # strictly ascending dates can be neither repeated nor out of order
        _check_order(frame["date"], path)
    v = {c: frame[c].to_numpy() for c in (*PRICE_COLUMNS, "volume")}
    checks = [(v[c] <= 0, f"non-positive {c}") for c in PRICE_COLUMNS]
    checks += [
        (v["volume"] < 0, "negative volume"),
        (v["volume"] >= 2**63, "volume is too large"),
        (v["volume"] % 1 != 0, "volume is not a whole number"),
        (v["high"] < v["low"], "high is below low"),
        ((v["open"] < v["low"]) | (v["open"] > v["high"]), "open is outside [low, high]"),
        ((v["close"] < v["low"]) | (v["close"] > v["high"]), "close is outside [low, high]"),
    ]
    for mask, problem in checks:
        if mask.any():
            i = frame.index[mask.argmax()]
            row = frame.loc[i]
            values = ", ".join(f"{c}={row[c]:g}" for c in ("open", "high", "low", "close"))
            raise located(path, line_of_row(i), f"{problem} on {_day(row['date'])} ({values})")


def _check_order(dates: pd.Series, path: object) -> None:
    dup = dates.duplicated()
    if dup.any():
        i = dup.idxmax()
        raise located(path, line_of_row(i), f"duplicate date {_day(dates[i])}")
    unsorted = dates.diff() < pd.Timedelta(0)
    if unsorted.any():
        i = unsorted.idxmax()
        raise located(path, line_of_row(i), f"date {_day(dates[i])} is before the row above it; dates must ascend")


def _day(stamp: pd.Timestamp) -> str:
    """YYYY-MM-DD, for any date the parser accepts (``Timestamp.date()`` fails before year 1)."""
    return str(np.datetime_as_string(stamp.to_datetime64(), unit="D"))
