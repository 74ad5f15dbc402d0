"""Price shocks: big single-day moves found from prices alone, and the news that explains them.

A shock is a close-to-close return (on ``adj_close``, so ex-dividend drops are not shocks) whose size
is strictly beyond a threshold, either absolute or in excess of a benchmark's return the same day
(e.g. NVDA minus QQQ). As an :class:`~newsbt.events.Event` it is a ``market_move`` published at that
session's close (early closes included), so the first bar that may trade on it is the next open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from newsbt.data.calendar import session_closes
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Category, Event, event_timing

if TYPE_CHECKING:
    import exchange_calendars as xc

RETURN_COLUMN = "adj_close"


@dataclass(frozen=True, slots=True)
class Shock:
    """One session's move; ``move`` is the return, or the return minus the benchmark's."""

    ticker: str
    day: pd.Timestamp
    ret: float
    benchmark: str | None
    benchmark_ret: float | None
    move: float
    closed_at: pd.Timestamp

    def to_event(self) -> Event:
        """The shock as a ``market_move`` event, available at the session's close."""
        day = self.day.date().isoformat()
        versus = f" ({self.move:+.2%} vs {self.benchmark} {self.benchmark_ret:+.2%})" if self.benchmark else ""
        return Event(
            event_id=f"shock-{self.ticker}-{day}",
            published_at=self.closed_at,
            available_at=self.closed_at,
            tickers=(self.ticker,),
            headline=f"{self.ticker} {self.ret:+.2%} close to close on {day}{versus}",
            category=Category.MARKET_MOVE,
            direction=int(np.sign(self.move)),
            source=f"newsbt shock scan ({RETURN_COLUMN})",
            notes="",
        )


@dataclass(frozen=True, slots=True)
class ExplainedShock:
    """A shock and the news events (same ticker, reaction day = shock day) that may explain it."""

    shock: Shock
    news: tuple[Event, ...]


def find_shocks(
    prices: Mapping[str, pd.DataFrame],
    threshold: float,
    *,
    tickers: Iterable[str] | None = None,
    benchmark: str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    calendar: xc.ExchangeCalendar | None = None,
) -> tuple[Shock, ...]:
    """Sessions where |move| > ``threshold`` (a fraction: 0.07 is 7 %), sorted by day then ticker.

    ``tickers`` defaults to every frame except the benchmark; ``start``/``end`` bound the shock day
    (inclusive). Price dates must be NYSE sessions.
    """
    if not threshold > 0:
        raise NewsbtError(f"shock threshold must be a positive fraction (0.07 for 7 %), got {threshold}")
    names = [t for t in prices if t != benchmark] if tickers is None else list(tickers)
    missing = [t for t in names + ([benchmark] if benchmark else []) if t not in prices]
    if missing:
        raise NewsbtError(f"no prices loaded for {', '.join(missing)}; load them before scanning for shocks")
    bench = _returns(prices[benchmark]) if benchmark else None
    shocks: list[Shock] = []
    for ticker in names:
        ret = _returns(prices[ticker]).loc[start:end]
        bench_ret = bench.reindex(ret.index) if bench is not None else None
        move = (ret - bench_ret).dropna() if bench_ret is not None else ret
        hits = move[move.abs() > threshold]
        closes = session_closes(hits.index, calendar)
        shocks += [
            Shock(ticker, day, float(ret[day]), benchmark, None if bench_ret is None else float(bench_ret[day]),
                  float(hits[day]), closes[day])
            for day in hits.index
        ]
    return tuple(sorted(shocks, key=lambda s: (s.day, s.ticker)))


def explain_shocks(
    shocks: Iterable[Shock], events: Iterable[Event], calendar: xc.ExchangeCalendar | None = None
) -> tuple[ExplainedShock, ...]:
    """Pair each shock with the news on the same ticker whose reaction day is the shock day.

    The reaction day comes from ``published_at`` (when the market could see the news), not the
    deliberately conservative ``available_at``. ``market_move`` events are skipped: a price move does
    not explain itself.
    """
    news = [e for e in events if e.category != Category.MARKET_MOVE]
    reaction = event_timing(news, calendar)["reaction_day"].tolist()
    by_key: dict[tuple[str, pd.Timestamp], list[Event]] = {}
    for event, day in zip(news, reaction):
        for ticker in event.tickers:
            by_key.setdefault((ticker, day), []).append(event)
    return tuple(ExplainedShock(s, tuple(by_key.get((s.ticker, s.day), ()))) for s in shocks)


def _returns(frame: pd.DataFrame) -> pd.Series:
    return frame[RETURN_COLUMN].pct_change().dropna()


def reaction_returns(events: Iterable[Event], prices: Mapping[str, pd.DataFrame],
                     calendar: xc.ExchangeCalendar | None = None) -> dict[str, dict[str, float | None]]:
    """Each event's tickers' close-to-close return on its reaction day (None where there is no bar)."""
    events = list(events)
    days = event_timing(events, calendar)["reaction_day"].tolist()
    returns = {t: _returns(f) for t, f in prices.items()}
    return {
        e.event_id: {t: float(returns[t][day]) if t in returns and day in returns[t].index else None
                     for t in e.tickers}
        for e, day in zip(events, days)
    }
