"""News feed adapters: the shapes users' headline files come in, read into one table of raw text.

Each adapter turns a file into rows of plain strings, one per (headline, ticker), with the place it
came from (``file:line``, or ``file: item N`` inside a JSON array) so that validation can point at
it. Nothing is parsed or checked here beyond the file's shape; :mod:`newsbt.data.news.store` does that.

Shapes, recognised by the file's header or keys:

- newsbt CSV: ``published_at,ticker,headline`` (+ optional ``source,url,dataset``), one ticker a row;
- Benzinga-style CSV: ``headline,date,stock`` (+ optional ``url,publisher``);
- Alpha-Vantage-style JSON: ``{"feed": [{"time_published", "title", "url", "source",
  "ticker_sentiment": [{"ticker": ...}, ...]}, ...]}``; one row per tagged ticker;
- FMP-style JSON: ``[{"symbol", "publishedDate", "title", "site", "url"}, ...]``;
- JSON lines (``.jsonl``/``.ndjson``): one Alpha-Vantage or FMP item per line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from newsbt.core.errors import NewsbtError, located

RAW_COLUMNS = ("loc", "published_at", "ticker", "headline", "source", "url", "dataset")
NEWSBT_CSV = ("published_at", "ticker", "headline")
BENZINGA_CSV = ("headline", "date", "stock")
AV_COMPACT_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?$")
Row = dict[str, str]


def read_feed(path: str | Path) -> pd.DataFrame:
    """Every row of one news file as strings (columns ``RAW_COLUMNS``), in file order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise located(path, None, "no such news file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise located(path, None, f"cannot read the news file ({exc.__class__.__name__}: {exc})") from None
    if not text.strip():
        raise located(path, None, "empty news file")
    reader = _json_rows if text.lstrip()[:1] in "[{" else _csv_rows
    rows = list(reader(text, path))
    return pd.DataFrame(rows, columns=list(RAW_COLUMNS), dtype=object)


def _csv_rows(text: str, path: Path) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip() for c in next(reader)]
    adapt = _csv_adapter(header, path)
    previous_end = reader.line_num
    try:
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(header):
                raise located(path, line, f"expected {len(header)} fields like the header, found {len(record)} "
                                          "(quote fields that contain commas)")
            yield adapt(dict(zip(header, record)), f"{path}:{line}")
    except csv.Error as exc:
        raise located(path, reader.line_num, f"not a readable CSV file ({exc})") from None


def _csv_adapter(header: list[str], path: Path) -> Callable[[Row, str], Row]:
    if all(c in header for c in NEWSBT_CSV):
        return lambda r, loc: _row(loc, r["published_at"], r["ticker"], r["headline"], r.get("source", ""),
                                   r.get("url", ""), r.get("dataset", "") or path.name)
    if all(c in header for c in BENZINGA_CSV):
        return lambda r, loc: _row(loc, r["date"], r["stock"], r["headline"], r.get("publisher", ""),
                                   r.get("url", ""), path.name)
    raise located(path, 1, f"unknown news CSV header {','.join(header)}; expected {','.join(NEWSBT_CSV)} "
                           f"(+ source,url,dataset) or Benzinga's {','.join(BENZINGA_CSV)} (+ url,publisher)")


def _json_rows(text: str, path: Path) -> Iterator[Row]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield from _item_rows(_loads(line, path, number), f"{path}:{number}", path.name)
        return
    document = _loads(text, path, None)
    items = document.get("feed") if isinstance(document, Mapping) else document
    if not isinstance(items, list):
        raise located(path, None, 'expected a JSON list of FMP items or an Alpha Vantage object with a "feed" list')
    for number, item in enumerate(items, start=1):
        yield from _item_rows(item, f"{path}: item {number}", path.name)


def _loads(text: str, path: Path, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise located(path, line if line is not None else exc.lineno, f"not valid JSON ({exc.msg})") from None


def _item_rows(item: Any, loc: str, dataset: str) -> Iterator[Row]:
    """One FMP item is one row; one Alpha Vantage item is a row per ticker it is tagged with."""
    if not isinstance(item, Mapping):
        raise NewsbtError(f"{loc}: expected a JSON object, found {type(item).__name__}")
    if "ticker_sentiment" in item:
        tagged = item["ticker_sentiment"]
        if not isinstance(tagged, list) or not all(isinstance(t, Mapping) for t in tagged):
            raise NewsbtError(f'{loc}: "ticker_sentiment" must be a list of objects with a "ticker"')
        for tag in tagged:
            yield _row(loc, _av_time(_text(item.get("time_published"))), _text(tag.get("ticker")),
                       _text(item.get("title")), _text(item.get("source")), _text(item.get("url")), dataset)
    elif "symbol" in item or "publishedDate" in item:
        yield _row(loc, _text(item.get("publishedDate")), _text(item.get("symbol")), _text(item.get("title")),
                   _text(item.get("site")), _text(item.get("url")), dataset)
    else:
        keys = ", ".join(sorted(map(str, item))[:8])
        raise NewsbtError(f"{loc}: unknown news item (keys {keys}); expected Alpha Vantage's time_published, "
                          "title, ticker_sentiment or FMP's symbol, publishedDate, title, site, url")


def _text(value: Any) -> str:
    """A JSON value as text; a missing value is empty (validation reports it where it matters)."""
    return "" if value is None else str(value)


def _av_time(value: str) -> str:
    """Alpha Vantage writes ``20250127T082500``; the same instant in ISO 8601 (still without a zone)."""
    found = AV_COMPACT_TIME.match(value.strip())
    if not found:
        return value
    y, mo, d, h, mi, s = found.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s or '00'}"


def _row(loc: str, published_at: str, ticker: str, headline: str, source: str, url: str, dataset: str) -> Row:
    return {"loc": loc, "published_at": published_at, "ticker": ticker, "headline": headline,
            "source": source, "url": url, "dataset": dataset}
