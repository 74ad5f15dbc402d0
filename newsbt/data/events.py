"""News event files: parse them point-in-time, refuse them when they are wrong.

A CSV with header ``event_id,published_at,tickers,headline,category,direction,source,notes`` and an
optional ``available_at`` column. Two timestamps, two jobs:

- ``published_at``: when the news became public (our best estimate). The market can only react after
  it, so it decides the *reaction day* (which close-to-close return contains the news).
- ``available_at``: when a backtest may know it (defaults to ``published_at``). It is set later on
  purpose when the exact time is unknown or a feed is delayed, and it alone decides the *first bar* a
  strategy may trade (see :func:`newsbt.calendar.is_public_before`).

Timestamps are ISO 8601 with a UTC offset (``2024-07-30T16:05:00-04:00`` or ``...Z``); a time without
an offset is refused, never guessed. ``tickers`` is ``;``-separated, ``direction`` is the sign the news
implies for every listed ticker (-1, 0, +1). Every problem of a file is reported at once, one per
line, each with its line number. Text fields are kept exactly as written (no escaping, no trimming).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from newsbt.data.calendar import map_events
from newsbt.core.errors import NewsbtError, located
from newsbt.data.prices import fetch_hint

if TYPE_CHECKING:
    import exchange_calendars as xc

REQUIRED_COLUMNS = (
    "event_id", "published_at", "tickers", "headline", "category", "direction", "source", "notes"
)
OPTIONAL_COLUMNS = ("available_at",)
COLUMNS = REQUIRED_COLUMNS[:2] + OPTIONAL_COLUMNS + REQUIRED_COLUMNS[2:]
DIRECTIONS = {"-1": -1, "0": 0, "1": 1, "+1": 1}
TIMESTAMP_EXAMPLE = "2024-07-30T16:05:00-04:00"


class Category(StrEnum):
    MODEL_RELEASE = "model_release"
    EARNINGS = "earnings"
    CAPEX = "capex"
    GUIDANCE = "guidance"
    STATEMENT = "statement"
    MARKET_MOVE = "market_move"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Event:
    """One news item; both timestamps are tz-aware UTC."""

    event_id: str
    published_at: pd.Timestamp
    available_at: pd.Timestamp
    tickers: tuple[str, ...]
    headline: str
    category: Category
    direction: int
    source: str
    notes: str
    url: str = ""  # where the news can be read (headline stores have one; event files do not)


class _Bad(ValueError):
    """One problem with one field; collected per row, never shown as a traceback."""


def load_events(path: str | Path, known_tickers: Iterable[str]) -> tuple[Event, ...]:
    """Read and validate an event file; ``known_tickers`` are those with a price file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise located(path, None, f"cannot read event file ({exc})") from None
    return parse_events(text, known_tickers, path)


def parse_events(text: str, known_tickers: Iterable[str], path: object = "<events>") -> tuple[Event, ...]:
    """Parse event CSV text (file order kept); raise one NewsbtError listing every problem."""
    known = frozenset(known_tickers)
    header, records = _read_records(text.removeprefix("\ufeff"), path)
    problems: list[str] = []
    events: list[Event] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        if len(record) != len(header):
            problems.append(str(located(path, line, f"expected {len(header)} fields like the header, found "
                                                     f"{len(record)} (quote fields that contain commas)")))
            continue
        row = dict(zip(header, record))
        event, errors = _parse_row(row, known)
        event_id = row["event_id"].strip()
        if event_id in first_line:
            errors.append(f"duplicate event_id {event_id!r} (first used on line {first_line[event_id]})")
        elif event_id:
            first_line[event_id] = line
        problems += [str(located(path, line, e)) for e in errors]
        if event is not None and not errors:
            events.append(event)
    if not records:
        problems.append(str(located(path, None, "has a header but no events")))
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise NewsbtError(f"{path}: {count} in event file:\n" + "\n".join(problems))
    return tuple(events)


def format_events(events: Iterable[Event]) -> str:
    """Write events as CSV text in the file format (timestamps in UTC), readable by :func:`parse_events`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in events:
        writer.writerow([
            e.event_id, e.published_at.isoformat(), e.available_at.isoformat(), ";".join(e.tickers),
            e.headline, e.category.value, str(e.direction), e.source, e.notes,
        ])
    return out.getvalue()


def event_timing(events: Iterable[Event], calendar: xc.ExchangeCalendar | None = None) -> pd.DataFrame:
    """One row per event: when it came out (``session``, ``reaction_day`` from published_at) and
    when a strategy may first trade on it (``first_bar`` from available_at), indexed by event_id.

    A ``market_move`` event *is* a session's move, published at that session's close: its reaction
    day is that session, so it is mapped from one second before its ``published_at``.
    """
    events = list(events)
    ids = pd.Index([e.event_id for e in events], name="event_id")
    published = map_events(pd.Series([e.published_at for e in events], index=ids, dtype=object), calendar)
    moves = [e.event_id for e in events if e.category == Category.MARKET_MOVE]
    if moves:
        just_before = pd.Series([e.published_at - pd.Timedelta(seconds=1) for e in events
                                 if e.category == Category.MARKET_MOVE], index=moves, dtype=object)
        published.loc[moves, "reaction_day"] = map_events(just_before, calendar)["reaction_day"].to_numpy()
    available = map_events(pd.Series([e.available_at for e in events], index=ids, dtype=object), calendar)
    return pd.DataFrame({
        "published_at": published["at"],
        "available_at": available["at"],
        "session": published["session"],
        "reaction_day": published["reaction_day"],
        "first_bar": available["first_bar"],
    })


def _read_records(text: str, path: object) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and each non-blank record with the file line it starts on; header problems stop here."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip() for c in next(reader, [])]
    if not any(header):
        raise located(path, 1, f"empty file; expected header {','.join(COLUMNS)}")
    _check_header(header, path)
    records, previous_end = [], reader.line_num
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(field.strip() for field in record):
                records.append((start, record))
    except csv.Error as exc:
        raise located(path, reader.line_num, f"not a readable CSV file ({exc})") from None
    return header, records


def _check_header(header: list[str], path: object) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
    # an unknown column is refused: a misspelt available_at would silently fall back to published_at
    problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
    problems += [f"repeated column(s) {', '.join(repeated)}"] if repeated else []
    if problems:
        expected = f"expected header {','.join(COLUMNS)} (available_at optional)"
        raise located(path, 1, f"{'; '.join(problems)}; {expected}")


def _parse_row(row: dict[str, str], known: frozenset[str]) -> tuple[Event | None, list[str]]:
    errors: list[str] = []

    def take(parse: Callable[..., object], *args: object) -> object:
        try:
            return parse(*args)
        except _Bad as exc:
            errors.append(str(exc))
            return None

    event_id = take(_required, row, "event_id")
    published = take(_timestamp, row["published_at"], "published_at")
    has_available = bool(row.get("available_at", "").strip())
    available = take(_timestamp, row["available_at"], "available_at") if has_available else published
    tickers = take(_tickers, row["tickers"], known)
    headline = take(_required, row, "headline")
    category = take(_category, row["category"])
    direction = take(_direction, row["direction"])
    if published is not None and available is not None and available < published:
        errors.append(f"available_at {row['available_at'].strip()} is before published_at "
                      f"{row['published_at'].strip()}; news cannot be known before it is published")
    if errors:
        return None, errors
    return Event(event_id, published, available, tickers, headline, category, direction,
                 row["source"], row["notes"]), []


def _required(row: dict[str, str], column: str) -> str:
    if not row[column].strip():
        raise _Bad(f"missing value in column {column}")
    return row[column] if column == "headline" else row[column].strip()


def _timestamp(text: str, column: str) -> pd.Timestamp:
    value = text.strip()
    if not value:
        raise _Bad(f"missing value in column {column}; expected e.g. {TIMESTAMP_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{column} {value!r} is not an ISO 8601 timestamp; "
                   f"expected e.g. {TIMESTAMP_EXAMPLE}") from None
    if parsed.tzinfo is None:
        raise _Bad(f"{column} {value!r} has no UTC offset; write it with one, e.g. {TIMESTAMP_EXAMPLE} "
                   "(New York is -04:00 in summer, -05:00 in winter) or ...Z for UTC")
    try:
        return pd.Timestamp(parsed).as_unit("ns").tz_convert("UTC")
    except (OverflowError, ValueError):  # pandas holds nanoseconds: years 1677..2262 only
        raise _Bad(f"{column} {value!r} is outside the dates a backtest can use") from None


def _tickers(text: str, known: frozenset[str]) -> tuple[str, ...]:
    tickers = [t.strip() for t in text.split(";")]
    if not text.strip() or not all(tickers):
        raise _Bad(f"tickers {text!r} has an empty entry; expected one or more tickers separated by ';'")
    unknown = [t if t.isprintable() else repr(t) for t in dict.fromkeys(tickers) if t not in known]
    if unknown:  # a line break inside a ticker must not break the one-line-per-problem report
        raise _Bad(f"no price file for ticker(s) {', '.join(unknown)}; download with: {fetch_hint(unknown)}")
    return tuple(dict.fromkeys(tickers))


def _category(text: str) -> Category:
    try:
        return Category(text.strip())
    except ValueError:
        expected = ", ".join(c.value for c in Category)
        raise _Bad(f"unknown category {text.strip()!r}; expected one of {expected}") from None


def _direction(text: str) -> int:
    if text.strip() not in DIRECTIONS:
        raise _Bad(f"direction {text.strip()!r} must be -1, 0 or +1")
    return DIRECTIONS[text.strip()]
