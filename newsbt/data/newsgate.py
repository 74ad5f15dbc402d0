"""The one gate between news and strategies: which events a decision at a bar's close may act on.

Daily bars: a strategy decides at bar t's close and its market order fills at the open of the next
session. So at bar t it may see exactly the events that are public before that open, i.e. whose
``first_bar`` (:func:`newsbt.calendar.is_public_before`, via :func:`newsbt.events.event_timing`) is at
or before the next NYSE session after t, its *horizon*. Nothing else in newsbt decides visibility:
strategies get news only through ``NewsbtStrategy.public_news``, which asks this gate.

If a ticker has no bar at that next session, its order simply fills at its next bar: later, never
earlier. Each event's ``first_bar`` and ``reaction_day`` are mapped once, up front; a query is two
binary searches over the sorted ``first_bar`` array.

News signals from a headline store (:mod:`newsbt.data.newssignals`, keyed by the session whose open
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

from newsbt.data.calendar import nyse_calendar
from newsbt.data.events import Event, event_timing


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """An event with the two NYSE sessions that matter for trading it.

    ``first_bar``: the first session whose open is strictly after ``available_at`` (the earliest fill).
    ``reaction_day``: the first session whose close is strictly after ``published_at`` (the close-to-close
    return that first contains the news).
    """

    event: Event
    first_bar: dt.date
    reaction_day: dt.date


class NewsGate:
    """Events sorted by ``first_bar``, released to a strategy bar by bar, never before they are public."""

    def __init__(self, events: Iterable[Event], signals: pd.DataFrame | None = None) -> None:
        self._news = _timed(tuple(events))
        self._first_bars = np.array([n.first_bar for n in self._news], dtype="datetime64[D]")
        self._signals = _by_session(signals)

    def visible(self, bar_date: dt.date, after: dt.date | None = None) -> tuple[TimedEvent, ...]:
        """Events a decision at ``bar_date``'s close may act on, by ``first_bar`` then file order.

        With ``after`` (a session), only those first tradable after it: a strategy that passes the
        previous bar's :meth:`horizon` gets each event exactly once, at the bar it becomes public.
        """
        if not self._news:
            return ()
        high = np.searchsorted(self._first_bars, np.datetime64(self.horizon(bar_date), "D"), side="right")
        low = 0 if after is None else np.searchsorted(self._first_bars, np.datetime64(after, "D"), side="right")
        return self._news[low:high]

    def signals(self, bar_date: dt.date) -> pd.DataFrame:
        """News signals a decision at ``bar_date``'s close may act on: the rows (index ticker) of the
        session ``horizon(bar_date)`` with at least one story; empty when there are none."""
        return self._signals.get(self.horizon(bar_date), _NO_SIGNALS)

    @staticmethod
    def horizon(bar_date: dt.date) -> dt.date:
        """The first NYSE session after ``bar_date``: where an order placed at its close can first fill."""
        sessions = _session_days()
        return sessions[np.searchsorted(sessions, np.datetime64(bar_date, "D"), side="right")].item()


def _timed(events: tuple[Event, ...]) -> tuple[TimedEvent, ...]:
    """Map every event once; a stable sort by ``first_bar`` keeps file order among equals."""
    if not events:
        return ()
    timing = event_timing(events)
    timed = [
        TimedEvent(e, first.date(), reaction.date())
        for e, first, reaction in zip(events, timing["first_bar"], timing["reaction_day"])
    ]
    return tuple(sorted(timed, key=lambda n: n.first_bar))


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
