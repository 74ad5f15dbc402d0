"""Headline rows, validated and put on the NYSE calendar: honest times, every bad row reported.

Input is the raw text of :func:`newsbt.data.news.feeds.read_feed`. A ``published_at`` is one of:

- ISO 8601 with a UTC offset (``2025-01-27T08:25:00-05:00``, ``...Z``): an exact instant;
- a time without an offset: refused, unless the user states the feed's zone (``timezone``, e.g.
  ``America/New_York`` for FMP, ``UTC`` for Alpha Vantage); it is never guessed;
- a bare date ``YYYY-MM-DD``: *date only*. No time is invented for it. The ``date_only`` policy says
  when such a headline may be acted on: ``after_close`` (default) treats it as public only once its
  day is over, so its first bar is the next session's open; ``before_open`` treats it as public before
  that day's open (its first bar is that day, or the next session): optimistic, it may look ahead.

Each row then gets ``available_at`` (the instant a trader may know it: the timestamp itself, or the
policy's bound for a bare date) and, from :func:`newsbt.data.calendar.map_events` (the same rule as
event files, one implementation), its ``session``, ``first_bar`` and ``reaction_day``. Date-only rows
have ``session = "date_only"``: it is unknown whether they came out before, during or after trading.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.data.calendar import CALENDAR_END, CALENDAR_START, EXCHANGE_TZ, map_events, nyse_calendar

DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"
HAS_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
EXAMPLE = "2025-01-27T08:25:00-05:00"
DATE_ONLY_SESSION = "date_only"


class DateOnlyPolicy(StrEnum):
    AFTER_CLOSE = "after_close"
    BEFORE_OPEN = "before_open"


def validate_rows(raw: pd.DataFrame, known_tickers: Iterable[str], timezone: str | None = None,
                  date_only: DateOnlyPolicy = DateOnlyPolicy.AFTER_CLOSE) -> pd.DataFrame:
    """Parse and check every raw row; one NewsbtError lists every bad row with its place and reason.

    Returns the rows in input order with ``published_at`` (UTC; NaT when date only), ``date_only``,
    ``available_at`` (UTC), ``session``, ``first_bar`` and ``reaction_day`` added.
    """
    raw = raw.reset_index(drop=True)
    text = raw["published_at"].astype(str).str.strip()
    is_date = text.str.fullmatch(DATE_ONLY)
    published, time_errors = _instants(text, is_date, timezone)
    days = pd.to_datetime(text.where(is_date), format="%Y-%m-%d", errors="coerce")
    available = published.where(~is_date, _date_bound(days, DateOnlyPolicy(date_only)))
    first_open, last_open = _mappable()
    tickers = raw["ticker"].astype(str).str.strip()
    errors = (time_errors
              + _flag(is_date & days.isna(), "unparseable date (expected YYYY-MM-DD)")
              + _flag(available.notna() & ((available < first_open) | (available >= last_open)),
                      f"time outside the NYSE calendar ({CALENDAR_START}..{CALENDAR_END})")
              + _flag(~tickers.isin(frozenset(known_tickers)), "unknown ticker " + tickers.map(repr) + " (no price file)")
              + _flag(raw["headline"].astype(str).str.strip() == "", "empty headline"))
    _raise_problems(raw["loc"], errors)
    rows = raw.assign(ticker=tickers, published_at=published, date_only=is_date.to_numpy(), available_at=available)
    return _on_calendar(rows)


def _flag(mask: pd.Series, message: str | pd.Series) -> pd.Series:
    """``message; `` where ``mask`` holds, '' elsewhere (problems of a row are concatenated)."""
    return pd.Series(np.where(mask, message + "; ", ""), index=mask.index)


def _mappable() -> tuple[pd.Timestamp, pd.Timestamp]:
    """The instants the calendar can map: from its first open to (not including) its last one."""
    opens = nyse_calendar().opens
    return opens.iloc[0], opens.iloc[-1]


def _instants(text: pd.Series, is_date: pd.Series, timezone: str | None) -> tuple[pd.Series, pd.Series]:
    """UTC instants of the timed rows (NaT elsewhere) and each row's time error text ('' when fine)."""
    empty = text == ""
    offset = ~is_date & ~empty & text.str.contains(HAS_OFFSET, regex=True)
    naive = ~is_date & ~empty & ~offset
    instants = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if offset.any():
        instants[offset] = pd.to_datetime(text[offset], format="ISO8601", utc=True, errors="coerce")
    local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
    if timezone is not None and naive.any():
        instants[naive] = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    errors = pd.Series("", index=text.index)
    errors[empty] = f"missing published_at; expected e.g. {EXAMPLE} or a bare date YYYY-MM-DD; "
    unparsed = (offset | naive) & instants.isna()
    errors[unparsed] = f"unparseable time in published_at; expected e.g. {EXAMPLE} or a bare date YYYY-MM-DD; "
    if timezone is None:
        errors[naive & local.reindex(text.index).notna()] = (
            f"no UTC offset in published_at; write e.g. {EXAMPLE}, or state the feed's zone with --timezone "
            "(e.g. America/New_York or UTC); ")
    elif naive.any():
        lost = naive & local.reindex(text.index).notna() & instants.isna()
        errors[lost] = f"local time does not exist or is ambiguous in {timezone} (a clock change); "
    return instants, errors


def _date_bound(days: pd.Series, policy: DateOnlyPolicy) -> pd.Series:
    """When a bare date becomes public: the end of its New York day, or (optimistic) its start."""
    shift = pd.Timedelta(days=1) if policy == DateOnlyPolicy.AFTER_CLOSE else pd.Timedelta(0)
    return (days + shift).dt.tz_localize(EXCHANGE_TZ).dt.tz_convert("UTC")


def _raise_problems(locs: pd.Series, errors: pd.Series) -> None:
    bad = errors != ""
    if not bad.any():
        return
    lines = [f"{loc}: {message.rstrip('; ')}" for loc, message in zip(locs[bad], errors[bad])]
    count = f"{len(lines)} bad row{'s' if len(lines) > 1 else ''}"
    raise NewsbtError(f"{count} in news input, nothing was written:\n" + "\n".join(lines))


def _on_calendar(rows: pd.DataFrame) -> pd.DataFrame:
    """Session, first bar and reaction day of every row, from the one calendar rule."""
    mapped = map_events(rows["available_at"])
    session = mapped["session"].where(~rows["date_only"], DATE_ONLY_SESSION)
    return rows.assign(session=session.astype(str), first_bar=mapped["first_bar"],
                       reaction_day=mapped["reaction_day"])
