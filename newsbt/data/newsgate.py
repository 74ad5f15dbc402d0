"""The one gate between news and strategies: which events a decision at a bar's close may act on.

Daily bars: a strategy decides at bar t's close and its market order fills at the open of the next
session. So at bar t it may see exactly the events that are public before that open, i.e. whose
``first_bar`` (:func:`newsbt.calendar.is_public_before`, via :func:`newsbt.events.event_timing`) is at
or before the next NYSE session after t, its *horizon*. Nothing else in newsbt decides visibility:
strategies get news only through ``NewsbtStrategy.public_news``, which asks this gate.

Intraday bars (a gate built with the run's ``clock``, every bar start of its feeds): an order placed
at bar t's close fills at the open of the next bar, so the horizon is the next bar start, and an
event's ``first_bar`` is the first bar of that clock whose start is strictly after ``available_at``:
the same rule, :func:`newsbt.data.calendar.first_bar_after`, over the run's own bars instead of the
NYSE session opens. With pre- and post-market bars in the clock, news at 16:05 is first tradable at
the 17:00 bar; with regular bars only, at the next day's 09:30 bar. Times are New York wall-clock,
as backtrader stamps the bars; an event public only after the run's last bar is never released.

If a ticker has no bar at that next session, its order simply fills at its next bar: later, never
earlier. Each event's ``first_bar`` and ``reaction_day`` are mapped once, up front; a query is two
binary searches over the sorted ``first_bar`` array.

News signals from a headline store (:mod:`newsbt.data.news.signals`, keyed by the session whose open
their stories precede) pass the same gate by the same horizon: at bar t a strategy gets the signal
rows of session ``horizon(t)``, computed only from stories whose ``first_bar`` is at or before it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from newsbt.data.calendar import EXCHANGE_TZ, first_bar_after, nyse_calendar
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Event, event_timing


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """An event with the two NYSE sessions that matter for trading it.

    ``first_bar``: the first session whose open is strictly after ``available_at`` (the earliest fill);
    on intraday bars, the New York start time of the first bar of the run strictly after it.
    ``reaction_day``: the first session whose close is strictly after ``published_at`` (the close-to-close
    return that first contains the news).
    """

    event: Event
    first_bar: dt.date | dt.datetime
    reaction_day: dt.date


Bar = dt.date | dt.datetime  # a daily bar's session date, or an intraday bar's New York start time
AFTER_LAST_BAR = dt.datetime.max  # the horizon of an intraday run's last bar: no bar is left


class NewsGate:
    """Events sorted by ``first_bar``, released to a strategy bar by bar, never before they are public."""

    def __init__(self, events: Iterable[Event], signals: pd.DataFrame | None = None,
                 clock: pd.DatetimeIndex | None = None) -> None:
        events = tuple(events)
        self._clock: np.ndarray | None = None  # an intraday run's bar starts; daily runs step through NYSE sessions
        if clock is None:
            self._unit = "D"
            self._news = _timed(events, lambda timing: [t.date() for t in timing["first_bar"]])
        else:
            if signals is not None:
                raise NewsbtError("news-store signals are per session: an intraday run trades the news of an "
                                  "event file ([run] events), not [run] news")
            self._unit = "us"
            self._clock = clock.tz_convert(EXCHANGE_TZ).tz_localize(None).to_numpy().astype("datetime64[us]")
            self._news = _timed(events, lambda timing: _first_bars(timing["available_at"], clock))
        self._first_bars = np.array([n.first_bar for n in self._news], dtype=f"datetime64[{self._unit}]")
        self._signals = _by_session(signals)

    def visible(self, now: Bar, after: Bar | None = None) -> tuple[TimedEvent, ...]:
        """Events a decision at the close of bar ``now`` may act on, by ``first_bar`` then file order.

        With ``after`` (a bar), only those first tradable after it: a strategy that passes the
        previous bar's :meth:`horizon` gets each event exactly once, at the bar it becomes public.
        """
        if not self._news:
            return ()
        high = np.searchsorted(self._first_bars, self._key(self.horizon(now)), side="right")
        low = 0 if after is None else np.searchsorted(self._first_bars, self._key(after), side="right")
        return self._news[low:high]

    def signals(self, bar_date: dt.date) -> pd.DataFrame:
        """News signals a decision at ``bar_date``'s close may act on: the rows (index ticker) of the
        session ``horizon(bar_date)`` with at least one story; empty when there are none."""
        if not self._signals:
            return _NO_SIGNALS
        return self._signals.get(self.horizon(bar_date), _NO_SIGNALS)

    def horizon(self, now: Bar) -> Bar:
        """The bar after ``now`` (the next NYSE session, or the run's next intraday bar): where an
        order placed at its close can first fill."""
        i = np.searchsorted(self._bars, self._key(now), side="right")
        return self._bars[i].item() if i < len(self._bars) else AFTER_LAST_BAR

    @property
    def _bars(self) -> np.ndarray:
        """The bars a horizon steps through. The NYSE calendar (~0.4 s to build, once per process) is
        built only when a horizon is first asked for, so a run without news never builds it."""
        return _session_days() if self._clock is None else self._clock

    def _key(self, bar: Bar) -> np.datetime64:
        return np.datetime64(bar, self._unit)


def _timed(events: tuple[Event, ...], first_bars) -> tuple[TimedEvent, ...]:
    """Map every event once (``first_bars(timing)`` gives each its first bar, or None when it has
    none in the run); a stable sort by ``first_bar`` keeps file order among equals."""
    if not events:
        return ()
    timing = event_timing(events)
    timed = [
        TimedEvent(e, first, reaction.date())
        for e, first, reaction in zip(events, first_bars(timing), timing["reaction_day"])
        if first is not None
    ]
    return tuple(sorted(timed, key=lambda n: n.first_bar))


def _first_bars(available_at: pd.Series, clock: pd.DatetimeIndex) -> list[dt.datetime | None]:
    """Each event's first bar of ``clock`` (New York wall-clock start), by the one point-in-time rule."""
    starts = clock.tz_convert("UTC").as_unit("ns")
    at = pd.DatetimeIndex(available_at).tz_convert("UTC").as_unit("ns")
    position = first_bar_after(at.asi8, starts.asi8)
    local = clock.tz_convert(EXCHANGE_TZ).tz_localize(None)
    return [local[i].to_pydatetime() if i < len(local) else None for i in position]


_NO_SIGNALS = pd.DataFrame(index=pd.Index([], name="ticker"))


def _by_session(signals: pd.DataFrame | None) -> dict[dt.date, pd.DataFrame]:
    """Signal rows with news, split by session once, so each bar's query is a dict lookup."""
    if signals is None or signals.empty:
        return {}
    active = signals[signals["stories"] > 0]
    return {day.date(): rows.droplevel("session") for day, rows in active.groupby(level="session")}


@functools.cache
def _session_days() -> np.ndarray:
    """Every NYSE session day of the calendar, as sorted ``datetime64[D]``."""
    return nyse_calendar().sessions.values.astype("datetime64[D]")
