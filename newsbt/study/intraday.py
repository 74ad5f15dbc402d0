"""Intraday event studies: abnormal returns per bar around news, on one bar grid.

A study file with ``[run] bars = "1h"`` (and ``sessions``) studies bars instead of days:

- **the grid** is the first studied ticker's bars of the chosen sessions; every other ticker and the
  market are put on it by :func:`on_grid`: for each grid bar, the close of the last bar of the other
  series that *starts* within it (at or after its start, before the next grid bar of the same New
  York day). QQQ's 5-minute bars 09:30..10:25 thus give the close of NVDA's 09:30 hourly bar, and
  15:30..15:55 that of its 30-minute 15:30 bar. A grid bar that no bar of the series starts in is
  NaN, and a pair that needs it is skipped with the reason, never filled;
- **returns** are close-to-close from one grid bar to the next, so a day's first bar carries the
  overnight move;
- **bar 0** of an event is the first grid bar whose start is strictly after ``available_at``
  (:func:`newsbt.data.calendar.first_bar_after`, the rule every backtest uses), and the estimation
  window, CAR windows and path count bars. Everything else is :func:`newsbt.study.model.run_event_study`.

``[study] market_bars`` names the market's own bar size when it differs (``"5m"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from newsbt.data.calendar import first_bar_after
from newsbt.data.events import Event


def on_grid(frame: pd.DataFrame, grid: pd.DatetimeIndex) -> pd.Series:
    """``frame``'s closes on ``grid`` (see the module docstring); both indexes tz-aware, ascending."""
    closes = frame["close"]
    position = grid.searchsorted(closes.index, side="right") - 1  # the latest grid bar starting at or before
    inside = position >= 0
    inside[inside] = grid[position[inside]].normalize() == closes.index[inside].normalize()
    assigned = pd.Series(closes.to_numpy()[inside], index=grid[position[inside]])
    return assigned.groupby(level=0).last().reindex(grid).rename(closes.name)


def session_grid(frame: pd.DataFrame, sessions: Iterable[str]) -> pd.DatetimeIndex:
    """The starts of ``frame``'s bars in ``sessions`` (as the NYSE calendar labels them)."""
    return frame.index[frame["nyse_session"].isin(list(sessions))]


def grid_returns(frames: Mapping[str, pd.DataFrame], grid: pd.DatetimeIndex, sessions: Iterable[str]) -> pd.DataFrame:
    """Bar returns of every frame's bars of ``sessions`` on ``grid``, indexed by New York wall-clock start."""
    sessions = list(sessions)
    closes = pd.DataFrame({t: on_grid(f.loc[f["nyse_session"].isin(sessions)], grid) for t, f in frames.items()},
                          index=grid)
    returns = closes.pct_change(fill_method=None)
    returns.index = grid.tz_localize(None)
    return returns


def first_bars(events: Iterable[Event], grid: pd.DatetimeIndex) -> dict[str, pd.Timestamp]:
    """Each event's bar 0 on ``grid`` (naive New York time), for events with a bar after them."""
    events = list(events)
    at = pd.DatetimeIndex([e.available_at for e in events]).tz_convert("UTC").as_unit("ns")
    position = first_bar_after(at.asi8, grid.tz_convert("UTC").as_unit("ns").asi8)
    local = grid.tz_localize(None)
    return {e.event_id: local[i] for e, i in zip(events, position) if i < len(local)}
