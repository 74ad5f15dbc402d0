"""NYSE sessions and the point-in-time rule: which daily bar may act on a piece of news.

Everything here works in UTC instants against the real XNYS calendar from ``exchange_calendars``
(holidays such as the 2025-01-09 national day of mourning, 13:00 early closes, DST). For an
instant ``t`` (a news timestamp) three things are derived:

- ``session``: where ``t`` falls in New York local time: ``pre_market`` (a session day, before its
  open), ``regular`` (open <= t < close), ``after_close`` (a session day, at or after its close, early
  closes included) or ``closed_day`` (weekend or holiday).
- ``reaction_day``: the session whose close-to-close return first contains the news, i.e. the first
  session whose close is strictly after ``t``. A closing price is struck at the close, so news at
  exactly 16:00 belongs to the next session.
- ``first_bar``: the first session whose open is strictly after ``t``: the first daily bar a
  strategy may trade at its open.

The point-in-time rule is one function, :func:`first_bar_after`: news is public from the first bar
whose *start* is strictly after ``available_at``, over any sorted sequence of bar starts. A daily
session is a bar that starts at the session's open; an intraday bar starts at its timestamp. Daily
mapping (:func:`map_events`) and the intraday news gate both call it. :func:`is_public_before` is the
same rule for one bar.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError

if TYPE_CHECKING:
    import exchange_calendars as xc

CALENDAR_NAME = "XNYS"
CALENDAR_START = "2000-01-01"
CALENDAR_END = "2030-12-31"
EXCHANGE_TZ = "America/New_York"


class SessionLabel(StrEnum):
    PRE_MARKET = "pre_market"
    REGULAR = "regular"
    AFTER_CLOSE = "after_close"
    CLOSED_DAY = "closed_day"


@dataclass(frozen=True, slots=True)
class SessionMapping:
    """Where one instant falls on the NYSE calendar; session days are tz-naive midnight labels."""

    at: pd.Timestamp
    session: SessionLabel
    reaction_day: pd.Timestamp
    first_bar: pd.Timestamp


@functools.cache
def nyse_calendar() -> xc.ExchangeCalendar:
    """The XNYS calendar for 2000..2030, built once per process (building it takes ~0.5 s; importing
    exchange_calendars ~0.8 s more, so it is imported here, by the runs that read news, not by all)."""
    import exchange_calendars as xc

    with warnings.catch_warnings():
        # exchange_calendars 4.x reads Series.values of tz-aware columns, deprecated in pandas 3.1
        warnings.simplefilter("ignore", category=DeprecationWarning)
        return xc.get_calendar(CALENDAR_NAME, start=CALENDAR_START, end=CALENDAR_END)


def is_public_before(available_at: pd.Timestamp, bar_open: pd.Timestamp) -> bool:
    """The point-in-time rule for one bar: news may be acted on at a bar's open only if it was
    available strictly before that open. News stamped exactly at the open is too late for that bar."""
    return bool(available_at < bar_open)


def first_bar_after(available_ns: np.ndarray, bar_starts_ns: np.ndarray) -> np.ndarray:
    """THE point-in-time rule over a grid: for each instant, the position of the first bar whose
    start is strictly after it (``len(bar_starts_ns)`` when there is none).

    Both arrays are int64 UTC nanoseconds and ``bar_starts_ns`` ascends. ``side="right"`` skips a bar
    starting exactly at the instant: :func:`is_public_before` for every bar at once.
    """
    return np.searchsorted(bar_starts_ns, available_ns, side="right")


def map_event(available_at: pd.Timestamp, calendar: xc.ExchangeCalendar | None = None) -> SessionMapping:
    """Map one tz-aware instant to its session label, reaction day and first tradable bar."""
    row = map_events([pd.Timestamp(available_at)], calendar).iloc[0]
    return SessionMapping(row["at"], SessionLabel(row["session"]), row["reaction_day"], row["first_bar"])


def map_events(times: Iterable[pd.Timestamp], calendar: xc.ExchangeCalendar | None = None) -> pd.DataFrame:
    """Vectorised :func:`map_event`: one row per instant (columns at, session, reaction_day, first_bar).

    A Series keeps its index; anything else gets a RangeIndex. Instants must be tz-aware.
    """
    index = times.index if isinstance(times, pd.Series) else None
    at = _utc_index(times)
    sessions, opens, closes = _schedule(calendar or nyse_calendar())
    t = at.as_unit("ns").asi8
    _check_range(at, t, opens)
    react = np.searchsorted(closes, t, side="right")  # first close strictly after t
    first = first_bar_after(t, opens)  # a daily bar starts at its session's open
    local_day = at.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
    regular = opens[react] <= t
    pre = ~regular & (local_day == sessions[react])
    after = ~regular & ~pre & (local_day == sessions[np.maximum(react - 1, 0)])
    labels = np.select(
        [regular, pre, after],
        [SessionLabel.REGULAR.value, SessionLabel.PRE_MARKET.value, SessionLabel.AFTER_CLOSE.value],
        default=SessionLabel.CLOSED_DAY.value,
    )
    frame = pd.DataFrame(
        {"at": at, "session": labels, "reaction_day": sessions[react], "first_bar": sessions[first]}
    )
    if index is not None:
        frame.index = index
    return frame


def session_closes(days: Iterable[pd.Timestamp], calendar: xc.ExchangeCalendar | None = None) -> pd.Series:
    """The UTC close instant of each session day (early closes included), indexed by the days given."""
    sessions, _, closes = _schedule(calendar or nyse_calendar())
    days = pd.DatetimeIndex(days)
    pos = sessions.get_indexer(days)
    if (pos < 0).any():
        bad = ", ".join(str(d.date()) for d in days[pos < 0][:5])
        raise NewsbtError(
            f"not an NYSE session: {bad} (weekend, holiday or outside {CALENDAR_START}..{CALENDAR_END})"
        )
    return pd.Series(pd.to_datetime(closes[pos], utc=True), index=days, name="close_at")


def bar_sessions(starts: pd.DatetimeIndex, calendar: xc.ExchangeCalendar | None = None
                 ) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """For tz-aware bar starts: each bar's New York day and the session the calendar puts it in,
    ``pre`` (before that day's open), ``regular`` (open <= start < close, early closes included) or
    ``post`` (at or after the close); ``""`` where the day is not an NYSE session."""
    sessions, opens, closes = _schedule(calendar or nyse_calendar())
    days = starts.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize().as_unit("ns")
    pos = sessions.get_indexer(days)
    t = starts.tz_convert("UTC").as_unit("ns").asi8
    is_session = pos >= 0
    day_open, day_close = opens[pos], closes[pos]
    labels = np.select([~is_session, t < day_open, t < day_close], ["", "pre", "regular"], default="post")
    return days, labels


@functools.lru_cache(maxsize=4)
def _schedule(calendar: xc.ExchangeCalendar) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Session labels plus opens and closes as int64 UTC nanoseconds, for fast searchsorted."""
    opens = calendar.opens
    closes = calendar.closes.reindex(opens.index)
    sessions = pd.DatetimeIndex(opens.index).as_unit("ns")
    return sessions, pd.DatetimeIndex(opens).as_unit("ns").asi8, pd.DatetimeIndex(closes).as_unit("ns").asi8


def _utc_index(times: Iterable[pd.Timestamp]) -> pd.DatetimeIndex:
    dtype = getattr(times, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):  # already tz-aware datetimes: convert in one step
        return pd.DatetimeIndex(times).tz_convert("UTC").as_unit("ns")
    stamps = [pd.Timestamp(t) for t in times]
    if any(t.tzinfo is None for t in stamps):
        raise ValueError("timestamps must be tz-aware (a naive time is ambiguous for point-in-time mapping)")
    return pd.DatetimeIndex([t.tz_convert("UTC") for t in stamps], dtype="datetime64[ns, UTC]")


def _check_range(at: pd.DatetimeIndex, t: np.ndarray, opens: np.ndarray) -> None:
    outside = (t < opens[0]) | (t >= opens[-1])  # the last session has no next bar to point at
    if outside.any():
        raise NewsbtError(
            f"timestamp {at[outside][0].isoformat()} is outside the NYSE calendar "
            f"({CALENDAR_START}..{CALENDAR_END}); it cannot be mapped to a session"
        )
